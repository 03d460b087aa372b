/**
 * Structured logging: one line per event, as JSON for machines or `key=value` for people.
 *
 * @module
 */

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** How much a log line must matter to be written. */
export type LogLevel = typeof LOG_LEVELS[number];

/** Values a log line may carry. */
export type Fields = Record<string, string | number | boolean | null | undefined>;

/** Writes events at or above its level. */
export interface Logger {
  log(level: LogLevel, event: string, fields?: Fields): void;
  /**
   * An info event whose `message` is written bare in pretty format, whatever the level: start-up's
   * one line says where Echo listens even with LOG_LEVEL=error.
   */
  announce(event: string, message: string, fields?: Fields): void;
  /** Writes what a batching logger still holds (before the process exits). */
  flush(): void;
}

/** How a logger formats and filters. */
export interface LoggerOptions {
  format: "json" | "pretty";
  level: LogLevel;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
  /**
   * Hold info and debug events and write them together, at most {@link FLUSH_MS} after the first, or at
   * once when {@link FLUSH_LINES} are held: each write to stdout is synchronous, and on Deno a timer per
   * burst of events cost as much as the writes. A warning or an error is written at once, after what is
   * held; so are `announce` and `flush`. Each line carries the time it was logged at, and its fields as
   * they were then: callers pass a new object each time.
   */
  batch?: boolean;
}

/** How long a batching logger holds a line at most. */
export const FLUSH_MS = 50;

/**
 * How many lines a batching logger holds at most: much larger batches left Bun more resident memory per
 * connection after a burst of upgrades (docs/benchmarks.md, "Log lines").
 */
export const FLUSH_LINES = 256;

/** Warnings and errors are written at once: an operator should see them when they happen. */
const URGENT = LOG_LEVELS.indexOf("warn");

/** A logger writing whole lines through `write` (the entry's stdout or stderr). */
export function createLogger(write: (line: string) => void, options: LoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const now = options.now ?? Date.now;
  // Events come in bursts (a handshake logs at open and at close): format each millisecond once.
  let lastMs = NaN;
  let lastTime = "";
  const timestamp = (ms: number) => {
    if (ms !== lastMs) {
      lastMs = ms;
      lastTime = new Date(ms).toISOString();
    }
    return lastTime;
  };
  // Likewise a JSON line's head, one per event (a burst of handshakes alternates open and close): each
  // new head string is garbage after its line is written (docs/benchmarks.md, "Log lines").
  const heads = new Map<string, { time: string; level: string; text: string }>();
  const jsonHead = (time: string, level: LogLevel, event: string) => {
    let head = heads.get(event);
    if (head === undefined || time !== head.time || level !== head.level) {
      head = { time, level, text: `{"time":"${time}","level":"${level}","event":${JSON.stringify(event)}` };
      heads.set(event, head);
    }
    return head.text;
  };
  const line = (ms: number, level: LogLevel, event: string, fields: Fields) => {
    const time = timestamp(ms);
    return options.format === "json"
      ? json(jsonHead(time, level, event), fields)
      : pretty(time, level, event, fields);
  };
  // Held events, four entries each (time, level, event, fields; no object per event), formatted when
  // written: formatting a batch in one loop cost Bun less per handshake than a line at a time between
  // the kernel's work for each connection (docs/benchmarks.md, "Log lines").
  let held: unknown[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (held.length === 0) return;
    const events = held;
    held = [];
    const lines = new Array<string>(events.length / 4);
    for (let i = 0; i < events.length; i += 4) {
      lines[i / 4] = line(
        events[i] as number,
        events[i + 1] as LogLevel,
        events[i + 2] as string,
        events[i + 3] as Fields,
      );
    }
    write(lines.join("\n"));
  };
  return {
    log(level, event, fields = {}) {
      const rank = LOG_LEVELS.indexOf(level);
      if (rank < threshold) return;
      const ms = now();
      if (!options.batch) return write(line(ms, level, event, fields));
      const count = held.push(ms, level, event, fields) / 4;
      if (rank >= URGENT || count >= FLUSH_LINES) flush();
      else if (count === 1) timer = setTimeout(flush, FLUSH_MS);
    },
    announce(event, message, fields = {}) {
      const time = timestamp(now());
      flush();
      write(
        options.format === "json"
          ? JSON.stringify({ time, level: "info", event, message, ...fields })
          : message,
      );
    },
    flush,
  };
}

/** `{"time":…,"level":…,"event":…,…fields}` from its head, without copying the fields into a new object. */
function json(head: string, fields: Fields): string {
  const rest = JSON.stringify(fields);
  return rest === "{}" ? `${head}}` : `${head},${rest.slice(1)}`;
}

function pretty(time: string, level: LogLevel, event: string, fields: Fields): string {
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) =>
      `${key}=${typeof value === "string" && needsQuotes(value) ? JSON.stringify(value) : value}`
    );
  return [time, level.padEnd(5), event, ...pairs].join(" ");
}

/** Quoting keeps spaces, `=` and control characters (a client's tag may hold escapes) inert. */
function needsQuotes(value: string): boolean {
  if (value === "") return true;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === 0x22 || code === 0x3d) return true;
  }
  return false;
}

/** One line describing an error, for a log field. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
