/**
 * The socket adapter on Deno: upgrades with `Deno.upgradeWebSocket` and turns each socket into the
 * {@link Peer} its session echoes through.
 *
 * @module
 */
import type { Connection } from "../lib/connection.ts";
import { type Message, type Opening, type Peer, QUEUED, type SendResult } from "../lib/peer.ts";
import { ABNORMAL, BY_RUNTIME, CLOSE, type EchoSession, NO_STATUS, openSession } from "../lib/session.ts";
import { messageSize } from "../lib/utf8.ts";

/** What Deno's server-side WebSocket has no API for. */
export const DENO_MISSING_KNOBS = {
  ping_ms: "not available on Deno: its WebSocket can neither send a ping nor report a pong",
  drop_after: "not available on Deno: its WebSocket cannot cut the TCP connection without a close frame",
};

/**
 * The close frame Deno's graceful server shutdown sends each open WebSocket: `server.shutdown()`, which
 * `deno serve` calls on SIGTERM/SIGINT (denoland/deno#32862), sends every upgraded socket
 * `1001 "Server shutting down"` and cancels its read (denoland/deno#35105), unless the socket's own
 * close frame already went out. The socket's close event then reports 1005 (no status) and `wasClean`,
 * whatever the client answered: Deno never reads the answer.
 */
export const DENO_SHUTDOWN_CLOSE = { code: CLOSE.GOING_AWAY, reason: "Server shutting down" } as const;

/** What the sockets of one isolate open with: the session's opening, and whether Deno is closing them all. */
export interface DenoOpening extends Opening {
  /** Set just before Deno's graceful shutdown of the server starts (`deno/server.ts`). */
  closedByDeno: boolean;
}

const ONCE = { once: true };

/**
 * The buffer {@link keepFreedHeap} allocates and frees: glibc then maps only chunks larger than this on
 * their own, and keeps up to twice this of free memory at the top of its heap.
 */
const KEPT_HEAP_BYTES = 16 * 1024 * 1024;

/**
 * Makes glibc's `malloc`, which holds Deno's `ArrayBuffer` memory, keep what Echo frees for the next
 * message instead of handing it back to the kernel. Echo frees each received buffer once echoed
 * (`EchoSession.receiveOwned`); with glibc's starting thresholds (a chunk of 128 KiB or more mapped on its
 * own, free memory over 128 KiB at the top of the heap returned), many of those frees returned pages
 * that the next message faulted in again: after a text load, ~60,000 faults a second and half the rate
 * at 64 KiB and at 1 MiB, in some processes and not others (docs/benchmarks.md, "Deno's heap
 * thresholds"). glibc raises both thresholds for the process's life when a mapped chunk is freed (its
 * "dynamic mmap threshold"): one 16 MiB buffer, allocated and freed here untouched, sets them to 16 MiB
 * and 32 MiB. That is what `GLIBC_TUNABLES=glibc.malloc.trim_threshold=…` would do, without a variable
 * the user must set and without switching the dynamic threshold off (setting one does). Elsewhere than
 * glibc it costs one map and unmap of untouched pages.
 */
export function keepFreedHeap(): void {
  new ArrayBuffer(KEPT_HEAP_BYTES).transfer(0);
}

/** Upgrades an accepted handshake with Deno's native WebSocket; the socket's events reach its session. */
export function upgrade(request: Request, connection: Connection, opening: DenoOpening): Response {
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
  #opening: DenoOpening;
  /** Bytes sent since `bufferedAmount` was last read. */
  #unchecked = 0;

  constructor(socket: WebSocket, connection: Connection, opening: DenoOpening) {
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
      this.#session = openSession(wrap(this), this.#connection, context);
    } else if (event.type === "close") {
      this.#closed(event as CloseEvent);
    }
  }

  /**
   * Deno's close event in RFC 6455's terms. Deno reports code 0 (`wasClean` false) when the TCP
   * connection ended without a close frame, where RFC 6455 says 1006 (its `new CloseEvent("close")`
   * without a code, ext/websocket/01_websocket.js); `wasClean` false with a code only after its own idle
   * timeout sent `1001 "No response from ping frame."`; and 1005 for every socket its graceful server
   * shutdown closed ({@link DENO_SHUTDOWN_CLOSE}).
   */
  #closed({ code, reason, wasClean }: CloseEvent): void {
    const session = this.#session;
    if (!session) return;
    if (!wasClean && code !== 0) session.closed(code, reason, BY_RUNTIME);
    else if (code === NO_STATUS && this.#opening.closedByDeno) {
      session.closed(DENO_SHUTDOWN_CLOSE.code, DENO_SHUTDOWN_CLOSE.reason, BY_RUNTIME);
    } else session.closed(code === 0 ? ABNORMAL : code, reason);
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
    // Once Deno's shutdown began, its own close frame goes first (`close()` is written a turn later, the
    // shutdown's at once): Echo's is not sent, and the session records Deno's.
    if (this.#opening.closedByDeno) throw new Error("Deno is closing this socket itself");
    this.#socket.close(code, reason);
  }
}
