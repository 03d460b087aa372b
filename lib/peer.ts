/**
 * The contract between a session and the runtime's socket: what an adapter under `deno/` or `bun/`
 * implements so that `lib/session.ts` can echo without knowing which runtime it is on.
 *
 * @module
 */
import type { Context } from "./context.ts";

/** A WebSocket message: text arrives and leaves as a string, binary as bytes. */
export type Message = string | Uint8Array;

/** A send's result when the message waits behind earlier data (its size is not reported). */
export const QUEUED = -1;
/** A send's result when the runtime refused the message. */
export const DROPPED = -2;

/**
 * What became of a send: the message's size in bytes once it is written (Bun reports it as it sends,
 * so the echo path never scans a text message for its UTF-8 size), or {@link QUEUED} or {@link DROPPED}.
 */
export type SendResult = number;

/** The runtime's socket, as seen by a session. Each entry adapts its native socket to this. */
export interface Peer {
  /**
   * Sends one message; `compress` is a request the runtime may ignore (Deno cannot deflate). A flag,
   * not an options object: this runs once per message.
   */
  send(message: Message, compress: boolean): SendResult;
  /** Bytes queued for the client and not yet written to the socket. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
  /**
   * Stops reading from the client until `resume`; absent where the runtime cannot (Deno). A paused socket
   * may not report that its client went away until it is resumed (Bun), so the session never leaves a
   * peer paused longer than `PAUSE_PROBE_MS` without resuming it.
   */
  pause?(): void;
  resume?(): void;
  /** Present where Echo must ping by itself (Bun); Deno's runtime pings natively. */
  ping?(): void;
  /** Drops the TCP connection without a closing handshake. */
  terminate?(): void;
  /**
   * True where the runtime abandons a close frame it was asked to send when a message from the client
   * arrives before the frame is written, and then ends the TCP connection (Deno: docs/limits.md,
   * "Close frames on Deno"). The session then sends the close frame only once the client has paused.
   */
  readonly losesCloseToLateInput?: boolean;
  /**
   * True where the runtime may end the connection with echoes and the close frame still unwritten when
   * the close is asked inside one of its socket's handlers or while its send buffer holds data, or with
   * the client's input unread (Bun: docs/limits.md, "Close frames on Bun"). The session then reads on and
   * asks for the close on a later turn of the event loop, once nothing is queued for the client.
   */
  readonly losesQueueOnClose?: boolean;
}

/** Wraps each connection's peer: how a test fixture breaks the echo without touching Echo's logic. */
export type PeerWrapper = (peer: Peer) => Peer;

/** The wrapper that leaves the peer as the runtime gave it. */
export const unwrapped: PeerWrapper = (peer) => peer;

/** What an entry opens each connection's session with: one object for all of a server's connections. */
export interface Opening {
  context: Context;
  wrap: PeerWrapper;
}
