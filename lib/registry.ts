/**
 * The process's record of its connections: totals and a bounded list of recent closes.
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

/** The process's counts since it started, as `/info` and `/metrics` report them. */
export interface Totals {
  /** Connections whose handshake completed. */
  connections: number;
  received: Traffic;
  sent: Traffic;
}

/** How many closed connections are remembered. */
export const RECENT_LIMIT = 100;

/** Recently closed connections of this process, with the process's totals. */
export class Registry {
  /** The last {@link RECENT_LIMIT} connections that closed, in the order they closed. */
  readonly recent: ClosedConnection[] = [];
  /** Refused handshakes, by reason (see `Refusal` in handshake.ts). */
  readonly refused: Map<string, number> = new Map();
  /** Closed connections, by close code. */
  readonly closes: Map<number, number> = new Map();
  /** Answers of the HTTP echo, SSE and CORS preflights, by service and status (`"echo 200"`). */
  readonly httpAnswers: Map<string, number> = new Map();
  /** Request body bytes the HTTP echo read. */
  httpBodyBytes = 0;
  /** Server-sent events sent. */
  sseEvents = 0;
  #lastId = 0;
  #opened = 0;
  #closed = 0;
  /** The traffic of connections that have closed; a live connection's is in its own record. */
  #ended = { received: { messages: 0, bytes: 0 }, sent: { messages: 0, bytes: 0 } };

  /** A fresh connection id. */
  nextId(): number {
    return ++this.#lastId;
  }

  /** Connections that have closed since start; the last of `recent` was the `closedCount`th. */
  get closedCount(): number {
    return this.#closed;
  }

  /** Counts a connection whose handshake completed. */
  opened(): void {
    this.#opened++;
  }

  /**
   * The totals: the closed connections' traffic plus that of the `live` ones. Summed when asked rather
   * than counted per message, so that an echo touches only its own connection's record.
   */
  totals(live: Iterable<Connection>): Totals {
    const { received, sent } = this.#ended;
    const totals = { connections: this.#opened, received: { ...received }, sent: { ...sent } };
    for (const connection of live) add(connection, totals);
    return totals;
  }

  /**
   * The closes by code as one log field, `code:count` by code (`"1000:3,1001:12"`): what `/metrics`'
   * `echo_closes_total` says, for a log line written when the listener is about to go.
   */
  closesByCode(): string {
    return [...this.closes].sort(([a], [b]) => a - b).map(([code, n]) => `${code}:${n}`).join(",");
  }

  /** Counts a refused handshake. */
  refusedHandshake(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  /** Counts an answer of the HTTP echo, SSE or a preflight. */
  httpAnswered(service: string, status: number): void {
    const key = `${service} ${status}`;
    this.httpAnswers.set(key, (this.httpAnswers.get(key) ?? 0) + 1);
  }

  /** Adds a connection that has ended to the recent ones; called once per connection. */
  closed(connection: Connection, closing: Closing): void {
    this.closes.set(closing.code, (this.closes.get(closing.code) ?? 0) + 1);
    const closedAt = Date.now();
    // The record itself becomes the closed one: nothing else holds it once its session has left the hub.
    // Field by field rather than Object.assign, which showed in Deno's handshake profile.
    const record = connection as ClosedConnection;
    record.code = closing.code;
    record.reason = closing.reason;
    record.closedBy = closing.closedBy;
    record.closedAt = closedAt;
    record.durationMs = closedAt - connection.openedAt;
    add(connection, this.#ended);
    this.#closed++;
    this.recent.push(record);
    if (this.recent.length > RECENT_LIMIT) this.recent.shift();
  }
}

function add(connection: Connection, totals: { received: Traffic; sent: Traffic }): void {
  totals.received.messages += connection.messagesIn;
  totals.received.bytes += connection.bytesIn;
  totals.sent.messages += connection.messagesOut;
  totals.sent.bytes += connection.bytesOut;
}
