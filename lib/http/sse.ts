/**
 * Server-sent events at `GET /sse` (and `/.sse`, jmalloc/echo-server's path): first a `server` event
 * naming who answered and a `request` event holding the request as the HTTP echo reports it (as
 * jmalloc/echo-server and echo.websocket.org send them), then a stream of numbered events (HTML Living
 * Standard, "Server-sent events"), `count` of them `interval_ms` apart, each with an `id:` so that a
 * reconnecting `EventSource` resumes after its `Last-Event-ID`. The two named events carry no `id:`, so
 * they leave the last event id alone, and an `onmessage` listener sees the numbered events only. A stream
 * is a live session in the hub like a WebSocket: it counts against MAX_CONNECTIONS and shutdown ends it.
 *
 * @module
 */
import { admission } from "../admission.ts";
import { clientAddress } from "../client_address.ts";
import type { Context } from "../context.ts";
import { corsHeaders, isPreflight, originAllowed, originRefused, preflight } from "./cors.ts";
import { answered, plain } from "./answer.ts";
import type { LiveSession } from "../hub.ts";
import { describe, rawPath } from "./echo.ts";

/** The SSE knobs' bounds, inclusive. */
export const SSE_LIMITS = {
  count: [1, 1_000_000],
  interval_ms: [10, 600_000],
} as const;

/** Milliseconds between events when `interval_ms` is not given. */
export const DEFAULT_INTERVAL_MS = 1000;

/**
 * Longest silence on a stream: a comment line goes out when no event is due sooner. Bun closes an
 * HTTP connection idle for its `idleTimeout` (10 s by default, Bun's server docs), and proxies
 * have read timeouts of their own.
 */
export const KEEPALIVE_MS = 5000;

/** The largest `Last-Event-ID` honoured (ids are whole numbers counted from 1). */
const MAX_EVENT_ID = 1_000_000_000;

/** The paths that stream events. */
export const SSE_PATHS: readonly string[] = ["/sse", "/.sse"];

type SseContext = Pick<
  Context,
  "config" | "logger" | "registry" | "hub" | "runtime" | "process" | "pathNote"
>;

/** Answers a request to an SSE path; `socketAddress` is the address the runtime saw. */
export function sseResponse(request: Request, context: SseContext, socketAddress: string): Response {
  const path = new URL(request.url).pathname;
  const remote = clientAddress(request.headers, socketAddress, context.config.trustProxy);
  const done = (response: Response) => {
    answered(context, isPreflight(request) ? "preflight" : "sse", request, path, response.status, { remote });
    return response;
  };
  const { allowedOrigins } = context.config;
  if (isPreflight(request)) return done(preflight(request, allowedOrigins));
  if (request.method !== "GET" && request.method !== "HEAD") {
    return done(plain(405, `Method ${request.method} is not allowed here; use GET`, { allow: "GET, HEAD" }));
  }
  if (!originAllowed(request.headers.get("origin"), allowedOrigins)) return done(originRefused());
  const cors = corsHeaders(request, allowedOrigins);
  const asked = parseSseKnobs(
    new URL(request.url).searchParams,
    request.headers,
    context.config.knobs === "on",
  );
  if ("message" in asked) return done(plain(asked.status, asked.message, cors));
  // A finished stream: 204 tells a reconnecting EventSource to stop (HTML, "Server-sent events").
  if (asked.count !== undefined && asked.lastId >= asked.count) {
    return done(new Response(null, { status: 204, headers: cors }));
  }
  const busy = admission(context);
  if (busy) return done(busy.response);
  const headers = {
    ...cors,
    "content-type": "text/event-stream",
    "cache-control": "no-store",
    // nginx would otherwise buffer the stream (its docs, "X-Accel-Buffering").
    "x-accel-buffering": "no",
  };
  if (request.method === "HEAD") return done(new Response(null, { headers }));
  // The request as the HTTP echo reports it; a stream reads no body.
  const echoed = describe(
    request,
    rawPath(request.url),
    new URL(request.url),
    new Uint8Array(0),
    remote,
    context,
  );
  const opening = `event: server\ndata: ${JSON.stringify(echoed.servedBy)}\n\n` +
    `event: request\ndata: ${JSON.stringify(echoed)}\n\n`;
  const stream = new SseStream(asked, context, { path, remote }, opening);
  return done(new Response(stream.body, { headers }));
}

/** What one stream was asked for. */
export interface SseKnobs {
  /** The id of the last event to send; `undefined`: endless. */
  count?: number;
  intervalMs: number;
  /** The id the client last saw (`Last-Event-ID`), 0 for a new stream. */
  lastId: number;
}

/** Reads `count`, `interval_ms` and `Last-Event-ID`, or the one-line refusal. */
export function parseSseKnobs(
  query: URLSearchParams,
  headers: Headers,
  enabled: boolean,
): SseKnobs | { status: 400 | 403; message: string } {
  const numbers: Partial<Record<keyof typeof SSE_LIMITS, number>> = {};
  for (
    const [name, [min, max]] of Object.entries(SSE_LIMITS) as Array<
      [keyof typeof SSE_LIMITS, [number, number]]
    >
  ) {
    const values = query.getAll(name);
    if (values.length === 0) continue;
    if (!enabled) {
      return {
        status: 403,
        message: `query parameter ${name}: test knobs are disabled on this server (KNOBS=off)`,
      };
    }
    if (values.length > 1) return { status: 400, message: `query parameter ${name}: given more than once` };
    if (!/^\d{1,7}$/.test(values[0]) || Number(values[0]) < min || Number(values[0]) > max) {
      return {
        status: 400,
        message: `query parameter ${name}: expected a whole number from ${min} to ${max}`,
      };
    }
    numbers[name] = Number(values[0]);
  }
  const last = headers.get("last-event-id");
  if (last !== null && (!/^\d{1,10}$/.test(last) || Number(last) > MAX_EVENT_ID)) {
    return { status: 400, message: `Last-Event-ID: expected an event id Echo sent (0 to ${MAX_EVENT_ID})` };
  }
  return {
    count: numbers.count,
    intervalMs: numbers.interval_ms ?? DEFAULT_INTERVAL_MS,
    lastId: Number(last ?? 0),
  };
}

const encoder = new TextEncoder();

/** One client's stream of events, produced as the client reads: a reader that stalls holds one event. */
class SseStream implements LiveSession {
  readonly connection = null;
  hubSlot = -1;
  readonly body: ReadableStream<Uint8Array>;
  #knobs: SseKnobs;
  #context: SseContext;
  #where: { path: string; remote: string };
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #nextId: number;
  #sent = 0;
  #started = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #ended = false;

  /** `opening`: the named events sent before the first numbered one (JSON has no raw line breaks). */
  constructor(knobs: SseKnobs, context: SseContext, where: { path: string; remote: string }, opening = "") {
    this.#knobs = knobs;
    this.#context = context;
    this.#where = where;
    this.#nextId = knobs.lastId + 1;
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        // The reconnection delay a client waits once the stream ends: the events' own rhythm.
        controller.enqueue(encoder.encode(`retry: ${knobs.intervalMs}\n\n${opening}`));
      },
      pull: () => this.#pull(),
      cancel: () => this.#end("client"),
    });
    context.hub.add(this);
  }

  async #pull(): Promise<void> {
    if (this.#ended) return;
    // The first event goes out at once, the next ones on the interval counted from the start.
    const due = this.#started + this.#sent * this.#knobs.intervalMs;
    const wait = due - performance.now();
    if (this.#sent > 0 && wait > 0) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, Math.min(wait, KEEPALIVE_MS));
      });
      this.#wake = undefined;
      if (this.#ended) return;
      // Decided by the wait asked for, not the clock: a timer may fire a fraction of a millisecond early.
      if (wait > KEEPALIVE_MS) return this.#controller.enqueue(encoder.encode(": keepalive\n\n"));
    }
    const id = this.#nextId++;
    this.#sent++;
    this.#context.registry.sseEvents++;
    const data = JSON.stringify({ id, time: new Date().toISOString() });
    this.#controller.enqueue(encoder.encode(`event: time\nid: ${id}\ndata: ${data}\n\n`));
    if (id === this.#knobs.count) this.#end("complete");
  }

  /** Ends the stream (shutdown): a last comment says why, then the stream closes. */
  close(_code: number, reason: string): void {
    if (this.#ended) return;
    this.#controller.enqueue(encoder.encode(`: ${reason}\n\n`));
    this.#end("server");
  }

  /** Streams are not pinged: the keepalive comments keep them busy. */
  keepalive(): void {}

  #end(by: "complete" | "client" | "server"): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    if (by !== "client") {
      try {
        this.#controller.close();
      } catch {
        // Already closed or errored by the runtime.
      }
    }
    this.#context.hub.remove(this);
    this.#context.logger.log("info", "sse end", { ...this.#where, events: this.#sent, by });
  }
}
