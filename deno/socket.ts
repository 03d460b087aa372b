/**
 * The socket adapter on Deno: upgrades with `Deno.upgradeWebSocket` and turns each socket into the
 * {@link Peer} its session echoes through.
 *
 * @module
 */
import type { Connection } from "../lib/connection.ts";
import { type Message, type Opening, type Peer, QUEUED, type SendResult } from "../lib/peer.ts";
import { EchoSession } from "../lib/session.ts";
import { messageSize } from "../lib/utf8.ts";

/** What Deno's server-side WebSocket has no API for. */
export const DENO_MISSING_KNOBS = {
  ping_ms: "not available on Deno: its WebSocket can neither send a ping nor report a pong",
  drop_after: "not available on Deno: its WebSocket cannot cut the TCP connection without a close frame",
};

const ONCE = { once: true };

/** Upgrades an accepted handshake with Deno's native WebSocket; the socket's events reach its session. */
export function upgrade(request: Request, connection: Connection, opening: Opening): Response {
  const { context } = opening;
  // Deno pings a silent client at half the idle timeout and closes it with 1001 at the timeout.
  const { socket, response } = Deno.upgradeWebSocket(request, {
    idleTimeout: context.config.idleTimeoutSeconds,
  });
  // Deno matches the offered protocols only when separated by ", " exactly, so the choice
  // made in lib/ is written onto the 101 here instead of being passed to upgradeWebSocket.
  if (connection.protocol) response.headers.set("sec-websocket-protocol", connection.protocol);
  socket.binaryType = "arraybuffer";
  const listener = new DenoSocket(socket, connection, opening);
  // Deno keeps an entry per listener for the socket's life; `once` frees the "open" one when it fires
  // (docs/benchmarks.md, "Idle memory"). No `error` listener: once open, an error is
  // always followed by `close`, and a failed upgrade has no session to end.
  socket.addEventListener("open", listener, ONCE);
  socket.addEventListener("message", listener);
  socket.addEventListener("close", listener);
  return response;
}

/**
 * How many bytes a connection sends between two reads of its `bufferedAmount`, which is a call into
 * Deno: read after every echo, it cost a measurable share of the small-message echo rate. A client that stops reading is
 * caught at most this many bytes (and one message) later than with a read per echo.
 */
const CHECK_BUFFERED_BYTES = 16 * 1024;

/**
 * One Deno connection: the listener of its socket's events and its session's peer. One object
 * per connection rather than three `on…` handlers, which Deno wraps in a closure each, and a peer.
 * Deno cannot stop reading a client or deflate, so the session caps bufferedAmount instead; its
 * `send` reports no size, so the message is sized here.
 */
class DenoSocket implements Peer, EventListenerObject {
  #socket: WebSocket;
  #connection: Connection;
  #session: EchoSession | undefined;
  #opening: Opening;
  /** Bytes sent since `bufferedAmount` was last read. */
  #unchecked = 0;

  constructor(socket: WebSocket, connection: Connection, opening: Opening) {
    this.#socket = socket;
    this.#connection = connection;
    this.#opening = opening;
  }

  handleEvent(event: Event): void {
    if (event.type === "message") {
      const data = (event as MessageEvent<string | ArrayBuffer>).data;
      if (typeof data === "string") this.#session?.receive(data);
      // Freed at every size: faster than leaving them to the collector from 256 B up (docs/benchmarks.md,
      // "Received buffers").
      else this.#session?.receiveOwned(new Uint8Array(data));
    } else if (event.type === "open") {
      const { context, wrap } = this.#opening;
      this.#session = new EchoSession(wrap(this), this.#connection, context);
    } else if (event.type === "close") {
      const { code, reason, wasClean } = event as CloseEvent;
      this.#session?.closed(code, reason, { clean: wasClean });
    }
  }

  send(message: Message): SendResult {
    this.#socket.send(message);
    const size = messageSize(message);
    this.#unchecked += size;
    if (this.#unchecked < CHECK_BUFFERED_BYTES) return size;
    this.#unchecked = 0;
    return this.#socket.bufferedAmount > 0 ? QUEUED : size;
  }
  bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }
  /**
   * Deno's server WebSocket ends the TCP connection, close frame unsent, when a message arrives after
   * `close()` (docs/limits.md, "Close frames on Deno"). A getter: no field on each connection.
   */
  get losesCloseToLateInput(): boolean {
    return true;
  }
  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }
}
