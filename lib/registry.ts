/**
 * The process's record of its connections: running totals and a bounded list of recent closes.
 * Live connections are the hub's members (lib/hub.ts): one collection per connection, not two.
 *
 * @module
 */
import type { Connection, Traffic } from "./connection.ts";

/** How a connection ended. */
export interface Closing {
  code: number;
  reason: string;
  /** Which side sent the first close frame; `"network"` when the TCP connection just ended. */
  closedBy: "client" | "server" | "network";
}

/** A connection that has ended, as the registry keeps it. */
export interface ClosedConnection extends Connection, Closing {
  closedAt: number;
  durationMs: number;
}

/** How many closed connections are remembered. */
export const RECENT_LIMIT = 100;

/** Recently closed connections of this process, with running totals. */
export class Registry {
  readonly recent: ClosedConnection[] = [];
  readonly totals = { connections: 0, received: { messages: 0, bytes: 0 }, sent: { messages: 0, bytes: 0 } };
  /** Refused handshakes, by reason (see `Refusal` in handshake.ts). */
  readonly refused: Map<string, number> = new Map();
  /** Closed connections, by close code. */
  readonly closes: Map<number, number> = new Map();
  #lastId = 0;

  /** A fresh connection id. */
  nextId(): number {
    return ++this.#lastId;
  }

  /** Counts a connection whose handshake completed. */
  opened(): void {
    this.totals.connections++;
  }

  /** Counts a message of `bytes` bytes (UTF-8 for text) from the client. */
  received(connection: Connection, bytes: number): void {
    connection.messagesIn++;
    connection.bytesIn += bytes;
    count(bytes, this.totals.received);
  }

  /** Counts a message of `bytes` bytes echoed to the client. */
  sent(connection: Connection, bytes: number): void {
    connection.messagesOut++;
    connection.bytesOut += bytes;
    count(bytes, this.totals.sent);
  }

  /** Counts a message of `bytes` bytes received and echoed at once (the usual case: one call per message). */
  echoed(connection: Connection, bytes: number): void {
    this.received(connection, bytes);
    this.sent(connection, bytes);
  }

  /** Counts a refused handshake. */
  refusedHandshake(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  /** Adds a connection that has ended to the recent ones; called once per connection. */
  closed(connection: Connection, closing: Closing): void {
    this.closes.set(closing.code, (this.closes.get(closing.code) ?? 0) + 1);
    const closedAt = Date.now();
    // The record itself becomes the closed one: nothing else holds it once its session has left the hub.
    // Field by field rather than Object.assign, which was ~1% of Deno's handshake profile.
    const record = connection as ClosedConnection;
    record.code = closing.code;
    record.reason = closing.reason;
    record.closedBy = closing.closedBy;
    record.closedAt = closedAt;
    record.durationMs = closedAt - connection.openedAt;
    this.recent.push(record);
    if (this.recent.length > RECENT_LIMIT) this.recent.shift();
  }
}

function count(bytes: number, total: Traffic): void {
  total.messages++;
  total.bytes += bytes;
}
