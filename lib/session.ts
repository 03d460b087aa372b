/**
 * What Echo does with an open connection, independent of the runtime: echo each message
 * unchanged, count it, keep the client's queue bounded, and contain failures to this connection.
 *
 * @module
 */
import { type Connection, countReceived, countSent } from "./connection.ts";
import type { Closing } from "./registry.ts";
import type { Context } from "./context.ts";
import type { LiveSession } from "./hub.ts";
import { shouldCompress } from "./compression.ts";
import { DelayLine } from "./delay.ts";
import { NO_KNOBS } from "./knobs.ts";
import { describeError } from "./log.ts";
import type { MessageLog } from "./message_log.ts";
import { exceedsBytes, messageSize } from "./utf8.ts";
import { DROPPED, type Message, type Peer, QUEUED, type SendResult } from "./peer.ts";

/** Close codes Echo sends (RFC 6455 §7.4.1). */
export const CLOSE = {
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
} as const;

/**
 * The codes RFC 6455 §7.1.5 and §7.4.1 reserve for reporting a close, never sent: the close frame that
 * ended the connection carried no code (1005), or the TCP connection ended without one (1006).
 */
export const NO_STATUS = 1005;
export const ABNORMAL = 1006;

/** How an adapter reports a close the runtime itself started (its own close frame, not Echo's). */
export const BY_RUNTIME = { byRuntime: true } as const;

/** A close Echo started: when, and the close frame it asked for (code 1006 for a cut without one). */
interface OwnClose {
  since: number;
  code: number;
  reason: string;
  /** Whether the frame was handed to the runtime (on Deno it may wait for the client to pause). */
  sent: boolean;
  /** Set when the frame will never go out (the connection was cut first): why, as the record says it. */
  lost?: string;
}

/**
 * How often a connection waiting to close checks that its client has read the queued echoes and sent
 * nothing since the last check (a peer that {@link Peer.losesCloseToLateInput}).
 */
export const DRAIN_POLL_MS = 50;

/** How long a closing handshake may take before the connection is dropped. */
export const CLOSE_TIMEOUT_MS = 5_000;

/**
 * How long a session leaves its peer paused without resuming it. Bun does not report that the client of
 * a paused socket went away (uSockets defers the hangup until the socket is resumed and stops polling
 * it), so a session paused for good kept its record live, and its file descriptor, until the idle sweep,
 * or forever without one (docs/limits.md, "Paused clients that leave, Bun"). A client that is still there
 * and still sending is paused again at its next queued echo: each resume reads at most one more chunk.
 */
export const PAUSE_PROBE_MS = 2_000;

/**
 * The session for a connection that has just opened: a tagged connection gets a {@link LoggedSession}
 * while the process has room for its log (lib/message_log.ts), any other a plain {@link EchoSession}.
 * Chosen once here, so that the untagged echo path carries no test for a log at all.
 */
export function openSession(peer: Peer, connection: Connection, context: Context): EchoSession {
  if (connection.tag === null) return new EchoSession(peer, connection, context);
  const log = context.messageLogs.open();
  return log ? new LoggedSession(peer, connection, context, log) : new EchoSession(peer, connection, context);
}

/** One open connection's echo loop. */
export class EchoSession implements LiveSession {
  readonly connection: Connection;
  hubSlot = -1;
  #peer: Peer;
  #context: Context;
  /** Whether compression can be asked for: only permessage-deflate connections (Bun) compress. */
  #deflate: boolean;
  /** Whether a knob acts on the number of echoes (`close`+`after`, `drop_after`). */
  #countsEchoes: boolean;
  #lastHeard = Date.now();
  /**
   * Set by every frame; the keepalive sweep turns it into `#lastHeard` (no clock read per message). Once
   * closing, the sweep leaves it alone and `#closeWhenQuiet` reads it instead: one field for both.
   */
  #heardSinceSweep = false;
  #pinged = false;
  /** Set once Echo starts closing: messages from then on are read and ignored. */
  #closing: OwnClose | undefined;
  /** The `delay` knob's queue, when asked for. */
  #delayed: DelayLine<Message> | undefined;
  /** The knobs' and the closing's timers, cleared when the connection closes (none for a plain echo). */
  #timers: Array<ReturnType<typeof setTimeout>> | undefined;
  /** While paused: the timer that resumes the peer after PAUSE_PROBE_MS. */
  #probe: ReturnType<typeof setTimeout> | undefined;

  constructor(peer: Peer, connection: Connection, context: Context) {
    this.#peer = peer;
    this.connection = connection;
    this.#context = context;
    this.#deflate = connection.extensions !== "";
    const { close, dropAfter } = connection.knobs;
    this.#countsEchoes = close?.after !== undefined || dropAfter !== undefined;
    context.registry.opened();
    context.hub.add(this);
    context.logger.log("info", "open", {
      id: connection.id,
      tag: connection.tag,
      remote: connection.remoteAddress,
      path: connection.path,
      protocol: connection.protocol,
      extensions: connection.extensions,
    });
    // A socket whose upgrade raced with shutdown opens after closeAll(): close it the same way.
    if (context.hub.draining) this.close(CLOSE.GOING_AWAY, "server shutting down");
    // Not called for a plain echo: the scope its closures capture is allocated on every call, which in
    // JavaScriptCore was garbage on every upgrade (docs/benchmarks.md, "Handshake garbage on Bun").
    else if (connection.knobs !== NO_KNOBS) this.#applyKnobs();
  }

  #applyKnobs(): void {
    const { delayMs, pingMs, close } = this.connection.knobs;
    if (delayMs) {
      this.#delayed = new DelayLine(delayMs, (message, size) => this.#releaseDelayed(message, size));
    }
    if (pingMs) this.#schedule(setInterval(() => this.#ping(), pingMs));
    if (close?.afterMs !== undefined) {
      this.#schedule(setTimeout(() => this.close(close.code, close.reason), close.afterMs));
    }
    this.#afterEcho();
  }

  /**
   * Echoes one message. A failure closes this connection with 1011 and nothing else. The plain echo is
   * the short path here; the rest is in methods of their own, so that the engines' JITs inline it whole.
   */
  receive(message: Message): void {
    this.heard();
    if (this.#closing !== undefined) return; // the close frame (sent or waiting) tells the client why
    const counted = this.connection.messagesIn;
    try {
      if (exceedsBytes(message, this.#context.config.maxMessageBytes)) return this.#tooBig(message);
      if (this.#delayed) return this.#delay(message, this.#delayed);
      // Where the runtime reports the size as it sends (Bun), no text is scanned here.
      const result = this.#peer.send(message, this.#compress(message));
      if (result < 0) return this.#unwritten(message, result);
      countReceived(this.connection, result);
      countSent(this.connection, result);
      if (this.#countsEchoes) this.#afterEcho();
    } catch (error) {
      // The client did send it, even if its echo failed.
      if (this.connection.messagesIn === counted) countReceived(this.connection, messageSize(message));
      this.#fail(error);
    }
  }

  /**
   * Echoes a binary message the runtime has just received, then frees its buffer (`transfer(0)`) unless
   * the `delay` knob keeps the message. V8 (Deno) and JavaScriptCore (Bun) free an `ArrayBuffer` only when
   * they collect it: under 1 MiB echoes, hundreds of megabytes of received buffers piled up between
   * collections, and the allocator handed their pages back and faulted them in again. Freed at once, the
   * next message reuses the same, still cached, memory (docs/benchmarks.md, "Received buffers").
   *
   * Only for an entry whose peer is done with the bytes once `send` returns (Deno's `send` copies them;
   * Bun's writes them to the socket or copies them into its queue); the entry decides from which size the
   * detach pays. A buffer that holds more than this message is left alone.
   */
  receiveOwned(message: Uint8Array): void {
    this.receive(message);
    if (this.#delayed) return;
    const buffer = message.buffer;
    if (buffer instanceof ArrayBuffer && buffer.byteLength === message.byteLength) buffer.transfer(0);
  }

  #compress(message: Message, size?: number): boolean {
    return this.#deflate && (this.connection.knobs.compress ?? shouldCompress(message, size));
  }

  #tooBig(message: Message): void {
    const limit = this.#context.config.maxMessageBytes;
    this.close(CLOSE.TOO_BIG, `message of ${messageSize(message)} bytes exceeds the limit of ${limit}`);
  }

  #delay(message: Message, delayed: DelayLine<Message>): void {
    const bytes = messageSize(message);
    countReceived(this.connection, bytes);
    // Delayed echoes count against the same limit as echoes the client has not read yet.
    delayed.push(message, bytes);
    if (this.#mayRead()) return;
    if (this.#peer.pause) this.#pause();
    else this.#overflow("delayed echoes exceed the send buffer limit");
  }

  /** An echo the runtime queued (its size not reported) or dropped. */
  #unwritten(message: Message, result: SendResult): void {
    const bytes = messageSize(message);
    countReceived(this.connection, bytes);
    if (result === DROPPED) return this.#overflow("the runtime dropped an echo");
    countSent(this.connection, bytes);
    if (this.#countsEchoes) this.#afterEcho();
    this.#queued();
  }

  /** Sends one delayed echo, whose arrival was counted when it came. */
  #echoDelayed(message: Message, size: number): void {
    const result = this.#peer.send(message, this.#compress(message, size));
    if (result === DROPPED) return this.#overflow("the runtime dropped an echo");
    countSent(this.connection, size);
    if (this.#countsEchoes) this.#afterEcho();
    if (result === QUEUED) this.#queued();
  }

  /** The runtime queued an echo behind unread ones: stop reading, or close if it cannot. */
  #queued(): void {
    if (this.#closing !== undefined) return;
    if (this.#peer.pause) this.#pause();
    else if (this.#peer.bufferedAmount() > this.#context.config.maxBufferedBytes) {
      this.#overflow("client is not reading its echoes");
    }
  }

  #releaseDelayed(message: Message, size: number): void {
    try {
      this.#echoDelayed(message, size);
      if (this.#closing === undefined && this.#peer.bufferedAmount() === 0 && this.#mayRead()) {
        this.#resume();
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  /** The `close`+`after` and `drop_after` knobs act once the Nth echo is on its way. */
  #afterEcho(): void {
    const { close, dropAfter } = this.connection.knobs;
    const echoed = this.connection.messagesOut;
    if (dropAfter !== undefined && echoed >= dropAfter) this.#drop();
    else if (close?.after !== undefined && echoed >= close.after) this.close(close.code, close.reason);
  }

  /** False while delayed echoes fill the send buffer limit. */
  #mayRead(): boolean {
    return !this.#delayed || this.#delayed.pendingBytes <= this.#context.config.maxBufferedBytes;
  }

  #fail(error: unknown): void {
    this.#context.logger.log("error", "failure", { id: this.connection.id, error: describeError(error) });
    this.close(CLOSE.INTERNAL_ERROR, "internal error");
  }

  /** The client's queue has drained, so it is reading: read from it again (or send the close waiting for it). */
  drained(): void {
    this.heard();
    if (this.#closing !== undefined && !this.#closing.sent && this.#peer.losesQueueOnClose) {
      this.#flushLater();
    } else if (this.#mayRead()) this.#resume();
  }

  /** Stops reading, and arms the probe that resumes the peer if no drain comes first. */
  #pause(): void {
    this.#peer.pause!();
    this.#probe ??= setTimeout(() => {
      this.#probe = undefined;
      this.#peer.resume?.();
    }, PAUSE_PROBE_MS);
  }

  #resume(): void {
    if (this.#probe !== undefined) clearTimeout(this.#probe);
    this.#probe = undefined;
    this.#peer.resume?.();
  }

  /** A pong came back (to Echo's ping, or unsolicited). */
  pong(): void {
    this.heard();
    this.connection.pongs++;
  }

  /** Any frame from the client (message, ping, pong) shows it is alive. */
  heard(): void {
    this.#heardSinceSweep = true;
  }

  /**
   * Starts the closing handshake from the server's side: every close Echo starts (the knobs, 1009, 1008,
   * 1011, 1001) comes here. Messages from then on are read and ignored.
   */
  close(code: number, reason: string): void {
    if (!this.#beginClosing(code, reason)) return;
    if (this.#peer.losesCloseToLateInput) this.#closeWhenQuiet();
    else if (this.#peer.losesQueueOnClose) this.#closeWhenFlushed();
    else this.#sendClose();
  }

  /** Marks the session closing and stops its knobs; false when it already was closing. */
  #beginClosing(code: number, reason: string): boolean {
    if (this.#closing !== undefined) return false;
    this.#closing = { since: Date.now(), code, reason, sent: false };
    this.#stopKnobs();
    return true;
  }

  #sendClose(): void {
    const closing = this.#closing!;
    // Before the call: Bun reports the close from within it.
    closing.sent = true;
    try {
      this.#peer.close(closing.code, closing.reason);
    } catch {
      // The socket is already closing or gone (or its runtime is closing it): its close event still
      // reaches closed(), with the close that did go over the wire.
      closing.sent = false;
    }
  }

  keepalive(now: number, idleMs: number): void {
    if (this.#closing !== undefined) {
      if (now - this.#closing.since > CLOSE_TIMEOUT_MS) this.#cut();
      return;
    }
    if (this.#heardSinceSweep) {
      this.#heardSinceSweep = false;
      this.#lastHeard = now;
      this.#pinged = false;
      return;
    }
    const silent = now - this.#lastHeard;
    if (silent >= idleMs) this.close(CLOSE.GOING_AWAY, "idle timeout: no answer to ping");
    else if (silent >= idleMs / 2 && !this.#pinged) {
      this.#pinged = true;
      this.#ping();
    }
  }

  #ping(): void {
    if (!this.#peer.ping) return;
    this.#peer.ping();
    this.connection.pingsSent++;
  }

  /** Cuts the TCP connection without a close frame (the `drop_after` knob). */
  #drop(): void {
    if (this.#beginClosing(ABNORMAL, "")) this.#peer.terminate?.();
  }

  #schedule(timer: ReturnType<typeof setTimeout>): void {
    (this.#timers ??= []).push(timer);
  }

  #stopKnobs(): void {
    // Not `this.#timers ?? []`: a plain echo has none, and the empty array was garbage on every close.
    if (this.#timers) { for (const timer of this.#timers) clearTimeout(timer); }
    this.#timers = undefined;
    this.#delayed?.clear();
  }

  /**
   * Records the end of the connection; called by the adapter when the socket closes (again: ignored),
   * with the close in RFC 6455's terms: the code and reason of the client's close frame ({@link NO_STATUS}
   * when it carried no code), or {@link ABNORMAL} when the TCP connection ended without one; with
   * {@link BY_RUNTIME} when the runtime sent a close frame of its own, which the code and reason then are;
   * with `closeUnwritten` when the runtime reported the socket closed while Echo's frame was still queued.
   *
   * What is recorded is the close frame that went over the wire first: Echo's own when Echo sent one
   * (runtimes report the client's answer instead, or their own code), the runtime's, or the client's;
   * 1006 when none did, by `server` when Echo cut the connection (or its frame was lost, the reason then
   * saying which frame and why), else `network`.
   */
  closed(
    code: number,
    reason: string,
    options: { byRuntime?: boolean; closeUnwritten?: boolean } = {},
  ): void {
    if (!this.#context.hub.remove(this)) return;
    const own = this.#closing;
    let closedBy: Closing["closedBy"];
    if (own?.lost !== undefined) {
      closedBy = "server";
      code = ABNORMAL;
      reason = own.lost;
    } else if (own?.sent && options.closeUnwritten) {
      closedBy = "server";
      code = ABNORMAL;
      reason = `close ${own.code} not written: still queued when the runtime closed the socket`;
    } else if (own?.sent) {
      closedBy = "server";
      // A runtime that reports no close frame at all lost Echo's (docs/limits.md, "Close frames on Deno").
      if (code !== ABNORMAL) ({ code, reason } = own);
    } else if (options.byRuntime) closedBy = "server";
    else if (code !== ABNORMAL) closedBy = "client";
    else closedBy = own?.code === ABNORMAL ? "server" : "network";
    const connection = this.connection;
    this.#stopKnobs();
    if (this.#probe !== undefined) clearTimeout(this.#probe);
    this.#probe = undefined;
    this.#context.registry.closed(connection, { code, reason, closedBy });
    this.#context.logger.log("info", "close", {
      id: connection.id,
      tag: connection.tag,
      remote: connection.remoteAddress,
      protocol: connection.protocol,
      extensions: connection.extensions,
      code,
      reason,
      closedBy,
      durationMs: Date.now() - connection.openedAt,
      messagesIn: connection.messagesIn,
      bytesIn: connection.bytesIn,
      messagesOut: connection.messagesOut,
      bytesOut: connection.bytesOut,
    });
  }

  #overflow(why: string): void {
    this.#context.logger.log("warn", "overflow", {
      id: this.connection.id,
      buffered: this.#peer.bufferedAmount(),
      limit: this.#context.config.maxBufferedBytes,
      why,
    });
    this.close(CLOSE.POLICY, `send buffer limit exceeded: ${why}`);
  }

  /**
   * For a runtime that may end the connection with the client's echoes, and the close frame behind them,
   * still unwritten (Bun: docs/limits.md, "Close frames on Bun"). Bun gives a closing socket a few
   * seconds before it ends it, whatever is still queued, and the kernel resets a connection closed with
   * input unread, taking what it had not delivered with it. So the session reads on (messages are
   * ignored), and asks for the close on a later turn of the event loop (outside the runtime's handler,
   * whose sends are only flushed when it returns) once nothing is queued, else at the next drain. A
   * client that reads nothing for CLOSE_TIMEOUT_MS is cut, and recorded so (1006).
   */
  #closeWhenFlushed(): void {
    this.#resume();
    this.#flushLater();
    this.#schedule(setTimeout(() => this.#cut(), CLOSE_TIMEOUT_MS));
  }

  /** Hands the close frame to the runtime on a later turn, if nothing is queued for the client by then. */
  #flushLater(): void {
    this.#schedule(setTimeout(() => {
      const closing = this.#closing;
      if (closing === undefined || closing.sent || closing.lost !== undefined) return;
      if (this.#peer.bufferedAmount() === 0) this.#sendClose();
    }, 0));
  }

  /** Drops a connection whose closing takes longer than CLOSE_TIMEOUT_MS; a frame not yet sent never will be. */
  #cut(): void {
    const closing = this.#closing;
    if (closing !== undefined && !closing.sent && closing.code !== ABNORMAL) {
      closing.lost = `close ${closing.code} not sent: echoes still queued after ${CLOSE_TIMEOUT_MS} ms`;
    }
    this.#peer.terminate?.();
  }

  /**
   * For a runtime that loses a close frame to a message arriving before the frame is written (Deno):
   * the client may still be sending (messages written in one burst, or a flood), and its echoes may
   * still be queued unread, which delays the frame. So echoing stops now, and the close frame goes out
   * once the queue is empty and no message arrived for a whole DRAIN_POLL_MS; a client that never
   * pauses or never reads gets it after the idle timeout (at least CLOSE_TIMEOUT_MS), and then may
   * see only the TCP connection end.
   */
  #closeWhenQuiet(): void {
    const deadline = Date.now() + Math.max(this.#context.config.idleTimeoutSeconds * 1000, CLOSE_TIMEOUT_MS);
    this.#heardSinceSweep = false;
    const poll = setInterval(() => {
      const quiet = !this.#heardSinceSweep && this.#peer.bufferedAmount() === 0;
      this.#heardSinceSweep = false;
      if (!quiet && Date.now() < deadline) return;
      clearInterval(poll);
      this.#sendClose();
    }, DRAIN_POLL_MS);
    this.#schedule(poll);
  }
}

/**
 * The echo loop of a tagged connection, which logs the messages it receives (here) and sends (through a
 * {@link LoggingPeer}) into its connection's {@link MessageLog}, for `/info?tag=` and the page.
 */
export class LoggedSession extends EchoSession {
  #log: MessageLog;

  constructor(peer: Peer, connection: Connection, context: Context, log: MessageLog) {
    connection.messageLog = log;
    super(new LoggingPeer(peer, log), connection, context);
    this.#log = log;
  }

  override receive(message: Message): void {
    this.#log.add("received", message);
    super.receive(message);
  }

  override closed(code: number, reason: string, options?: Parameters<EchoSession["closed"]>[2]): void {
    this.#log.closed = true;
    super.closed(code, reason, options);
  }
}

/**
 * The peer of a logged session: logs each message the session sends, then sends it. Optional methods
 * are present exactly where the wrapped peer has them, since the session checks for them.
 */
export class LoggingPeer implements Peer {
  #peer: Peer;
  #log: MessageLog;
  pause?: () => void;
  resume?: () => void;
  ping?: () => void;
  terminate?: () => void;
  readonly losesCloseToLateInput?: boolean;
  readonly losesQueueOnClose?: boolean;

  constructor(peer: Peer, log: MessageLog) {
    this.#peer = peer;
    this.#log = log;
    if (peer.pause) this.pause = () => peer.pause!();
    if (peer.resume) this.resume = () => peer.resume!();
    if (peer.ping) this.ping = () => peer.ping!();
    if (peer.terminate) this.terminate = () => peer.terminate!();
    if (peer.losesCloseToLateInput) this.losesCloseToLateInput = true;
    if (peer.losesQueueOnClose) this.losesQueueOnClose = true;
  }

  send(message: Message, compress: boolean): SendResult {
    const result = this.#peer.send(message, compress);
    // A dropped echo never left; a queued one did, as far as the server is concerned.
    if (result !== DROPPED) this.#log.add("sent", message);
    return result;
  }

  bufferedAmount(): number {
    return this.#peer.bufferedAmount();
  }

  close(code: number, reason: string): void {
    this.#peer.close(code, reason);
  }
}
