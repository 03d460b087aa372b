/**
 * The server's view of a tagged connection's messages: the last few it received and sent, with their
 * time, type, size and first bytes, so that `/info?tag=` and the page can set them beside what the
 * client itself sent and got (a proxy in between may split, merge, re-encode or delay messages).
 *
 * Only a tagged connection keeps a log (the session chooses at open: lib/session.ts `openSession`), and
 * what the logs hold is bounded twice: {@link LOG_MESSAGES} entries per connection, and
 * {@link LOG_CONNECTIONS} logs per process, live and closed together (docs/info.md, "Message log").
 *
 * @module
 */
import { messageSize } from "./utf8.ts";

/** A WebSocket message (`Message` in lib/peer.ts, which this module does not import: peer.ts names the context). */
type Message = string | Uint8Array;

/** Entries a connection's log keeps: the last this many messages, both directions together. */
export const LOG_MESSAGES = 50;
/** Logs a process keeps at once; past it, a new tagged connection takes the oldest closed one's place. */
export const LOG_CONNECTIONS = 200;
/** How much of each message an entry keeps: this many UTF-16 units of text, or bytes of binary. */
export const PREVIEW_LENGTH = 64;

/** Which way a message went, as the server saw it. */
export type Direction = "received" | "sent";

interface Entry {
  at: number;
  direction: Direction;
  /** The first {@link PREVIEW_LENGTH} units of text, or a copy of the first bytes (the buffer may be freed). */
  preview: string | Uint8Array;
  bytes: number;
  truncated: boolean;
}

/** One message of a log, as `/info` shows it. */
export interface LoggedMessage {
  /** When the server received or sent it, ISO 8601. */
  at: string;
  direction: Direction;
  type: "text" | "binary";
  /** Its size in bytes (UTF-8 for text). */
  bytes: number;
  /** The text's first {@link PREVIEW_LENGTH} UTF-16 units, or the first bytes of binary in base64. */
  preview: string;
  /** True when `preview` is shorter than the message. */
  truncated: boolean;
}

/** A log as `/info` shows it in a tagged connection's full record (`messageLog`). */
export interface MessageLogReport {
  /** Messages logged since the connection opened, both directions. */
  logged: number;
  /** The last {@link LOG_MESSAGES} of them, oldest first. */
  messages: LoggedMessage[];
  /** Why the log holds nothing, when it does not keep messages. */
  note?: string;
}

/** One tagged connection's last messages, a ring of {@link LOG_MESSAGES} entries. */
export class MessageLog {
  #entries: Entry[] = [];
  #next = 0;
  #logged = 0;
  /** Set when its connection has closed: a closed log may give its place to a new connection's. */
  closed = false;
  /** Set when a newer connection took its place. */
  evicted = false;

  /** Adds one message; its first bytes are copied now, since the runtime may reuse or free its buffer. */
  add(direction: Direction, message: Message): void {
    if (this.evicted) return;
    const kept = preview(message);
    const entry: Entry = {
      at: Date.now(),
      direction,
      preview: kept,
      bytes: messageSize(message),
      truncated: kept.length < message.length,
    };
    this.#logged++;
    if (this.#entries.length < LOG_MESSAGES) this.#entries.push(entry);
    else this.#entries[this.#next] = entry;
    this.#next = (this.#next + 1) % LOG_MESSAGES;
  }

  /** Frees the entries for a newer connection's log. */
  evict(): void {
    this.evicted = true;
    this.#entries = [];
    this.#next = 0;
  }

  /** The entries, oldest first, in `/info`'s shape. */
  report(): MessageLogReport {
    const ring = this.#entries;
    const ordered = ring.length < LOG_MESSAGES
      ? ring
      : [...ring.slice(this.#next), ...ring.slice(0, this.#next)];
    return {
      logged: this.#logged,
      messages: ordered.map(show),
      ...(this.evicted
        ? { note: `dropped for a newer tagged connection's: a process keeps ${LOG_CONNECTIONS} message logs` }
        : {}),
    };
  }
}

function show(entry: Entry): LoggedMessage {
  const { preview } = entry;
  const text = typeof preview === "string";
  return {
    at: new Date(entry.at).toISOString(),
    direction: entry.direction,
    type: text ? "text" : "binary",
    bytes: entry.bytes,
    preview: text ? preview : base64(preview),
    truncated: entry.truncated,
  };
}

/** The first {@link PREVIEW_LENGTH} units or bytes, a copy; text is not cut inside a surrogate pair. */
function preview(message: Message): string | Uint8Array {
  if (typeof message !== "string") return message.slice(0, PREVIEW_LENGTH);
  const end = PREVIEW_LENGTH - (isHighSurrogate(message.charCodeAt(PREVIEW_LENGTH - 1)) ? 1 : 0);
  return message.slice(0, end);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The report of a tagged connection that got no log (the process held {@link LOG_CONNECTIONS} live ones). */
export const NO_LOG: MessageLogReport = {
  logged: 0,
  messages: [],
  note: `not kept: ${LOG_CONNECTIONS} live tagged connections already keep a message log in this process`,
};

/** The process's message logs: at most {@link LOG_CONNECTIONS}, oldest first. */
export class MessageLogs {
  #logs: MessageLog[] = [];
  readonly limit: number;

  constructor(limit = LOG_CONNECTIONS) {
    this.limit = limit;
  }

  /** Logs held now, closed connections' included. */
  get size(): number {
    return this.#logs.length;
  }

  /**
   * A new log, in place of the oldest closed connection's when the process holds {@link limit};
   * `undefined` when all of them belong to live connections.
   */
  open(): MessageLog | undefined {
    if (this.#logs.length >= this.limit) {
      const oldest = this.#logs.findIndex((log) => log.closed);
      if (oldest < 0) return undefined;
      this.#logs[oldest].evict();
      this.#logs.splice(oldest, 1);
    }
    const log = new MessageLog();
    this.#logs.push(log);
    return log;
  }
}
