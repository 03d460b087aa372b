/**
 * What Echo does with an open connection, independent of the runtime: echo each message
 * unchanged, count it, and contain failures to this one connection.
 *
 * @module
 */
import type { Connection } from "./connection.ts";
import type { Closing, Registry } from "./registry.ts";
import { shouldCompress } from "./compression.ts";
import { messageSize } from "./utf8.ts";

/** A WebSocket message: text arrives and leaves as a string, binary as bytes. */
export type Message = string | Uint8Array;

/** The runtime's socket, as seen by a session. Each entry adapts its native socket to this. */
export interface Peer {
  /** Sends one message; `compress` is a request the runtime may ignore (Deno cannot deflate). */
  send(message: Message, options: { compress: boolean }): void;
  close(code: number, reason: string): void;
}

/** Close code for a failure inside the server (RFC 6455 §7.4.1). */
export const INTERNAL_ERROR = 1011;

/** One open connection's echo loop. */
export class EchoSession {
  readonly connection: Connection;
  #peer: Peer;
  #registry: Registry;
  #closingSent = false;

  constructor(peer: Peer, connection: Connection, options: { registry: Registry }) {
    this.#peer = peer;
    this.connection = connection;
    this.#registry = options.registry;
    this.#registry.opened(connection);
  }

  /** Echoes one message. A failure closes this connection with 1011 and nothing else. */
  receive(message: Message): void {
    try {
      // Sized once: counting and the compression rule would otherwise scan a string three times.
      const bytes = messageSize(message);
      this.#registry.received(this.connection, message, bytes);
      this.#peer.send(message, { compress: shouldCompress(message, bytes) });
      this.#registry.sent(this.connection, message, bytes);
    } catch (error) {
      console.error(`echo: connection ${this.connection.id} failed:`, error);
      this.close(INTERNAL_ERROR, "internal error");
    }
  }

  /** Starts the closing handshake from the server's side. */
  close(code: number, reason: string): void {
    this.#closingSent = true;
    try {
      this.#peer.close(code, reason);
    } catch {
      // The socket is already closing or gone; its close event still reaches closed().
    }
  }

  /** Records the end of the connection; called once by the entry when the socket closes. */
  closed(code: number, reason: string, options: { clean: boolean }): void {
    const closedBy: Closing["closedBy"] = this.#closingSent ? "server" : options.clean ? "client" : "network";
    this.#registry.closed(this.connection, { code, reason, closedBy });
  }
}
