/**
 * The facts about one WebSocket connection, captured once at upgrade time: some are gone
 * later (Deno's remote address), and the rest must describe the handshake as it happened.
 *
 * @module
 */
import type { RequestHeaders } from "./handshake.ts";
import { type Knobs, NO_KNOBS } from "./knobs.ts";
import type { MessageLog } from "./message_log.ts";
import { requestTarget, type Target } from "./target.ts";

/** Message and byte counts in one direction. */
export interface Traffic {
  messages: number;
  bytes: number;
}

/** One connection, from its handshake on. */
export interface Connection {
  /** Unique within this process, in order of upgrade. */
  id: number;
  /** The `tag` query parameter of the WebSocket URL, for finding one's own connection. */
  tag: string | null;
  /** Path of the WebSocket URL, without the query. */
  path: string;
  /** The WebSocket URL's query as sent, without the `?` (`""` for none): knobs, tag and the client's own. */
  query: string;
  remoteAddress: string;
  /** Milliseconds since the epoch at which the upgrade was accepted. */
  openedAt: number;
  /** Request headers exactly as received (`null` when absent). */
  request: RequestHeaders;
  /** The subprotocol the 101 carried, `""` for none. */
  protocol: string;
  /** The `Sec-WebSocket-Extensions` value the 101 carried, `""` for none. */
  extensions: string;
  /** The test knobs the URL asked for (`{}` for a plain echo). */
  knobs: Knobs;
  /** Pings Echo sent, and pongs that came back. */
  pingsSent: number;
  pongs: number;
  /**
   * Messages and bytes (UTF-8 for text) from the client, and echoed to it. Plain fields rather than an
   * object per direction: every object is kept by every idle connection (docs/benchmarks.md, "Idle memory").
   */
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
  /**
   * The last messages each way, for a tagged connection only (lib/message_log.ts). Set by its session
   * at open, never present on an untagged record: no field, no memory, for a plain echo.
   */
  messageLog?: MessageLog;
}

/** What the handshake decided and what only the runtime knows about the client. */
export interface ConnectionFacts {
  id: number;
  /** The request URL's path and query, read once by the handler (default: read from the request). */
  target?: Target;
  remoteAddress: string;
  protocol: string | undefined;
  /** What the runtime's 101 answers to the offered extensions (`""` for none). */
  extensions: string;
  knobs?: Knobs;
  /** The headers as the handshake's check read them (default: read from the request). */
  request?: RequestHeaders;
}

/** Captures a connection's facts from its upgrade request. */
export function captureConnection(request: Request, facts: ConnectionFacts): Connection {
  const { path, query, search } = facts.target ?? requestTarget(request.url);
  const headers = request.headers;
  return {
    id: facts.id,
    tag: query?.get("tag") ?? null,
    path,
    query: search,
    remoteAddress: facts.remoteAddress,
    openedAt: Date.now(),
    request: facts.request ?? {
      origin: headers.get("origin"),
      userAgent: headers.get("user-agent"),
      key: headers.get("sec-websocket-key") ?? "",
      extensions: headers.get("sec-websocket-extensions"),
      protocol: headers.get("sec-websocket-protocol"),
    },
    protocol: facts.protocol ?? "",
    extensions: facts.extensions,
    knobs: facts.knobs ?? NO_KNOBS,
    pingsSent: 0,
    pongs: 0,
    messagesIn: 0,
    bytesIn: 0,
    messagesOut: 0,
    bytesOut: 0,
  };
}

/** A connection's messages and bytes from the client, in the shape `/info` reports. */
export function receivedTraffic(connection: Connection): Traffic {
  return { messages: connection.messagesIn, bytes: connection.bytesIn };
}

/** A connection's messages and bytes echoed to the client, in the shape `/info` reports. */
export function sentTraffic(connection: Connection): Traffic {
  return { messages: connection.messagesOut, bytes: connection.bytesOut };
}

/** Counts a message of `bytes` bytes (UTF-8 for text) from the client. */
export function countReceived(connection: Connection, bytes: number): void {
  connection.messagesIn++;
  connection.bytesIn += bytes;
}

/** Counts a message of `bytes` bytes echoed to the client. */
export function countSent(connection: Connection, bytes: number): void {
  connection.messagesOut++;
  connection.bytesOut += bytes;
}
