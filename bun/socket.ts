/**
 * The socket adapter on Bun: the upgrade of an accepted handshake, `Bun.serve`'s WebSocket handler, and
 * the {@link Peer} each socket is to its session.
 *
 * @module
 */
import { edenGC } from "bun:jsc";
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import type { Config } from "../lib/config.ts";
import type { Connection } from "../lib/connection.ts";
import type { DeflateMode } from "../lib/deflate.ts";
import { DROPPED, type Message, type Opening, type Peer, QUEUED, type SendResult } from "../lib/peer.ts";
import { ABNORMAL, BY_RUNTIME, type EchoSession, openSession } from "../lib/session.ts";
import type { Lingering } from "./lingering.ts";

/**
 * Asks `server` to upgrade an accepted handshake; Bun answers the 101 itself. `undefined` once it has,
 * a 400 when it refuses.
 */
export function upgrade(
  server: Server<BunSocket>,
  request: Request,
  connection: Connection,
  clientPort: number,
): Response | undefined {
  const headers = connection.protocol ? { "sec-websocket-protocol": connection.protocol } : undefined;
  // Bun answers the first offered subprotocol by itself unless told otherwise; with none chosen
  // (the protocol=none knob) it must not see the offer.
  if (!headers && connection.request.protocol !== null) request.headers.delete("sec-websocket-protocol");
  if (!server.upgrade(request, { data: new BunSocket(connection, clientPort), headers })) {
    return new Response("The runtime refused this WebSocket upgrade\n", { status: 400 });
  }
  if (connection.id % UPGRADES_PER_COLLECTION === 0) edenGC();
  return undefined;
}

/**
 * `Bun.serve`'s WebSocket options: each event handed to the socket's session; during the drain, each
 * closed connection noted in `lingering` until it is gone.
 */
export function webSocketHandler(config: Config, opening: Opening, lingering: Lingering): WebSocketHandler<BunSocket> {
  return {
    // Bun negotiates permessage-deflate itself (lib/deflate.ts predicts its answer for /info);
    // each echo asks for compression by lib's rule.
    perMessageDeflate: COMPRESSORS[config.deflate],
    // Bun enforces the size after decompression and closes with 1009 itself.
    maxPayloadLength: config.maxMessageBytes,
    // The session pauses reading at the first backpressure, so the queue stays far below this;
    // the limit only guarantees Bun never drops an echo that was already read.
    backpressureLimit: config.maxBufferedBytes + config.maxMessageBytes,
    // Bun's idle timeout closes TCP without a close frame; the hub's keepalive closes with 1001.
    idleTimeout: 0,
    sendPings: false,
    open: (ws) => ws.data.open(ws, opening),
    message: (ws, message) => ws.data.receive(message),
    drain: (ws) => ws.data.session?.drained(),
    ping: (ws) => ws.data.session?.heard(),
    pong: (ws) => ws.data.session?.pong(),
    close: (ws, code, reason) => {
      ws.data.closed(code, reason);
      // Bun calls this as soon as its close frame is out (uWebSockets' `end()`), not when the client
      // answers; during the drain the connection is looked up until it is gone.
      if (opening.context.hub.draining) lingering.add(ws.data.clientPort);
    },
  };
}

const COMPRESSORS: Record<DeflateMode, boolean | { compress: "dedicated"; decompress: "dedicated" }> = {
  shared: true,
  dedicated: { compress: "dedicated", decompress: "dedicated" },
  off: false,
};

/**
 * Upgrades between two young-generation collections Echo asks of JavaScriptCore. Left to pace itself,
 * the collector let a burst of thousands of upgrades pile their garbage up before it ran, and the pages
 * that garbage took stayed resident after it was collected. An eden collection only visits what was
 * allocated since the last one (docs/benchmarks.md, "Handshake garbage on Bun").
 */
const UPGRADES_PER_COLLECTION = 1000;

/**
 * From this size on, a received binary message's buffer is freed once echoed (`EchoSession.receiveOwned`):
 * below it, freeing cost more than it saved (docs/benchmarks.md, "Received buffers").
 */
const RELEASE_FROM_BYTES = 8 * 1024;

/** From this size on, echoes on connections without deflate are framed whole (see `#framedWholeFrom`). */
const FRAMED_WHOLE_BYTES = 1024 * 1024;

/**
 * One Bun connection, as its socket's `data`: the facts captured at upgrade, then, once open, the
 * session and the session's peer (one object per connection).
 */
export class BunSocket implements Peer {
  readonly connection: Connection;
  /** The client's TCP port, which finds the connection in the kernel's table (bun/lingering.ts). */
  readonly clientPort: number;
  session: EchoSession | undefined;
  #ws!: ServerWebSocket<BunSocket>;
  /**
   * From this size on (UTF-16 units for text), echoes ask to be compressed so as to be framed whole.
   * On a connection without permessage-deflate the flag changes nothing on the wire (Bun ignores it
   * there) but how uWebSockets sends: without it, a message of 16 KiB or more is written as header and
   * payload straight to the socket; with it, the frame is built whole first. On loopback here the first
   * is faster for smaller messages and the second for the largest (docs/benchmarks.md, "Large frames on Bun").
   * With deflate the flag compresses, so only lib's rule sets it there.
   */
  readonly #framedWholeFrom: number;
  constructor(connection: Connection, clientPort: number) {
    this.connection = connection;
    this.clientPort = clientPort;
    this.#framedWholeFrom = connection.extensions === "" ? FRAMED_WHOLE_BYTES : Infinity;
  }
  open(ws: ServerWebSocket<BunSocket>, { context, wrap }: Opening): void {
    this.#ws = ws;
    this.session = openSession(wrap(this), this.connection, context);
  }
  /** Bun gives each binary message a buffer of its own, which the session frees once echoed. */
  receive(message: string | Buffer): void {
    if (typeof message === "string" || message.byteLength < RELEASE_FROM_BYTES) this.session?.receive(message);
    else this.session?.receiveOwned(message);
  }
  send(message: Message, compress: boolean): SendResult {
    // sendText and sendBinary rather than send: Bun's JIT calls them directly when the type is known.
    // Each returns the payload's size (also when it compresses), -1 when queued, 0 when dropped.
    let size, result;
    if (typeof message === "string") {
      size = message.length;
      result = this.#ws.sendText(message, compress || size >= this.#framedWholeFrom);
    } else {
      size = message.byteLength;
      result = this.#ws.sendBinary(message, compress || size >= this.#framedWholeFrom);
    }
    if (result > 0) return result;
    if (result === -1) return QUEUED;
    // An empty message on an open socket is also 0.
    return size === 0 && this.#ws.readyState === 1 ? 0 : DROPPED;
  }
  /**
   * Bun's close callback in RFC 6455's terms: for a close Echo started, Echo's code; for a client's
   * close frame, its code (1005 without one); 1006 when the TCP connection ended without one. But when
   * Bun fails a connection itself (a message too big, text not UTF-8, a protocol error) it sends a close
   * frame of its own (1009, 1007, 1002) and reports 1006 with that frame's reason ("Received …").
   */
  closed(code: number, reason: string): void {
    if (this.session === undefined) return;
    if (code === ABNORMAL && reason.startsWith("Received ")) {
      return this.session.closed(bunFailureCode(reason), reason, BY_RUNTIME);
    }
    // Bun calls this inside ws.close(), once its close frame is queued: a buffer still holding data means
    // the frame was not written, and Bun ends the socket within 4 s whether or not it is by then.
    this.session.closed(code, reason, { closeUnwritten: this.#ws.getBufferedAmount() > 0 });
  }
  bufferedAmount(): number {
    return this.#ws.getBufferedAmount();
  }
  /**
   * Bun ends a socket it was asked to close 0–4 s later (its end timer, with `idleTimeout: 0`), echoes and
   * close frame written or not, and a close asked inside a message handler is only flushed when the
   * handler returns; the kernel resets a socket closed with input unread (docs/limits.md, "Close frames
   * on Bun"). A getter: no field on each connection.
   */
  get losesQueueOnClose(): boolean {
    return true;
  }
  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }
  pause(): void {
    this.#ws.pause();
  }
  resume(): void {
    this.#ws.resume();
  }
  ping(): void {
    this.#ws.ping();
  }
  terminate(): void {
    this.#ws.terminate();
  }
}


/**
 * The code of the close frame Bun sent when it failed a connection, from the reason it reports with
 * 1006 (uWebSockets' messages): 1009 for a message over `maxPayloadLength` (or inflating past it), 1007
 * for text that is not UTF-8, 1002 for the other protocol errors (Bun 1.4.5, checked on the wire).
 */
function bunFailureCode(reason: string): number {
  if (reason.startsWith("Received too big message")) return 1009;
  if (reason === "Received invalid UTF-8") return 1007;
  return 1002;
}
