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
import { exceedsBytes, messageSize } from "./utf8.ts";
import { DROPPED, type Ending, type Message, type Peer, QUEUED, type SendResult } from "./peer.ts";

/** Close codes Echo sends (RFC 6455 §7.4.1). */
export const CLOSE = {
  GOING_AWAY: 1001,
  POLICY: 1008,
  TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
} as const;

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

/** A close the server decided on and has not handed to the runtime yet (a peer that `losesQueueOnClose`). */
interface PendingClose {
  code: number;
  reason: string;
  /** Set once the session gave up waiting and cut the connection: why. */
  abandoned?: string;
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
  #closingSince: number | undefined;
  /** The `delay` knob's queue, when asked for. */
  #delayed: DelayLine<Message> | undefined;
  /** The knobs' and the closing's timers, cleared when the connection closes (none for a plain echo). */
  #timers: Array<ReturnType<typeof setTimeout>> | undefined;
  /** While paused: the timer that resumes the peer after PAUSE_PROBE_MS. */
  #probe: ReturnType<typeof setTimeout> | undefined;
  /** The server's close while it waits for the client's queue to be written (`#closeWhenFlushed`). */
  #pendingClose: PendingClose | undefined;

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
    if (this.#closingSince !== undefined) return; // the close frame (sent or waiting) tells the client why
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
    if (this.#closingSince !== undefined) return;
    if (this.#peer.pause) this.#pause();
    else if (this.#peer.bufferedAmount() > this.#context.config.maxBufferedBytes) {
      this.#overflow("client is not reading its echoes");
    }
  }

  #releaseDelayed(message: Message, size: number): void {
    try {
      this.#echoDelayed(message, size);
      if (this.#closingSince === undefined && this.#peer.bufferedAmount() === 0 && this.#mayRead()) {
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
    if (this.#pendingClose) this.#flushLater();
    else if (this.#mayRead()) this.#resume();
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
    if (!this.#beginClosing()) return;
    if (this.#peer.losesCloseToLateInput) this.#closeWhenQuiet(code, reason);
    else if (this.#peer.losesQueueOnClose) this.#closeWhenFlushed(code, reason);
    else this.#sendClose(code, reason);
  }

  /** Marks the session closing and stops its knobs; false when it already was closing. */
  #beginClosing(): boolean {
    if (this.#closingSince !== undefined) return false;
    this.#closingSince = Date.now();
    this.#stopKnobs();
    return true;
  }

  #sendClose(code: number, reason: string): void {
    try {
      this.#peer.close(code, reason);
    } catch {
      // The socket is already closing or gone; its close event still reaches closed().
    }
  }

  keepalive(now: number, idleMs: number): void {
    if (this.#closingSince !== undefined) {
      if (now - this.#closingSince > CLOSE_TIMEOUT_MS) this.#cut();
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
    if (this.#beginClosing()) this.#peer.terminate?.();
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
   * Records the end of the connection; called by the entry when the socket closes (again: ignored). A
   * close the server started is recorded with its code only when its frame was handed to the runtime
   * and written; otherwise the record says what the client saw, 1006, and the reason says why.
   */
  closed(code: number, reason: string, ending: Ending): void {
    if (!this.#context.hub.remove(this)) return;
    let closedBy: Closing["closedBy"] = ending.clean ? "client" : "network";
    const pending = this.#pendingClose;
    if (pending?.abandoned !== undefined) {
      closedBy = "server";
      code = 1006;
      reason = `close ${pending.code} not sent: ${pending.abandoned}`;
    } else if (this.#closingSince !== undefined && pending === undefined) {
      // (A pending close that was never sent leaves the end to whoever made it: the client or the network.)
      closedBy = "server";
      if (ending.closeUnwritten) {
        reason = `close ${code} not written: still queued when the runtime closed the socket`;
        code = 1006;
      }
    }
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
  #closeWhenFlushed(code: number, reason: string): void {
    this.#pendingClose = { code, reason };
    this.#resume();
    this.#flushLater();
    this.#schedule(setTimeout(() => this.#cut(), CLOSE_TIMEOUT_MS));
  }

  #flushLater(): void {
    this.#schedule(setTimeout(() => {
      const pending = this.#pendingClose;
      if (pending === undefined || pending.abandoned !== undefined || this.#peer.bufferedAmount() > 0) return;
      this.#pendingClose = undefined;
      this.#sendClose(pending.code, pending.reason);
    }, 0));
  }

  /** Drops a connection whose closing takes longer than CLOSE_TIMEOUT_MS. */
  #cut(): void {
    if (this.#pendingClose) {
      this.#pendingClose.abandoned = `echoes still queued after ${CLOSE_TIMEOUT_MS} ms`;
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
  #closeWhenQuiet(code: number, reason: string): void {
    const deadline = Date.now() + Math.max(this.#context.config.idleTimeoutSeconds * 1000, CLOSE_TIMEOUT_MS);
    this.#heardSinceSweep = false;
    const poll = setInterval(() => {
      const quiet = !this.#heardSinceSweep && this.#peer.bufferedAmount() === 0;
      this.#heardSinceSweep = false;
      if (!quiet && Date.now() < deadline) return;
      clearInterval(poll);
      this.#sendClose(code, reason);
    }, DRAIN_POLL_MS);
    this.#schedule(poll);
  }
}
