/**
 * Echo's Bun entry: `bun run bun/server.ts`.
 * The only place that talks to Bun; the behaviour lives in `lib/`.
 *
 * @module
 */
import { edenGC } from "bun:jsc";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Server, ServerWebSocket } from "bun";
import { type CliOptions, listeningLine, loadConfig, type Settings, shutDown } from "../lib/cli.ts";
import type { Connection } from "../lib/connection.ts";
import { type Context, createContext } from "../lib/context.ts";
import { bunExtensions, type DeflateMode } from "../lib/deflate.ts";
import { createHandler, internalError } from "../lib/handler.ts";
import { healthcheck, isHealthcheck } from "../lib/healthcheck.ts";
import { createLogger } from "../lib/log.ts";
import { redisStore } from "../lib/redis_store.ts";
import { SharedFleet } from "../lib/shared_fleet.ts";
import {
  DROPPED,
  EchoSession,
  type Message,
  type Opening,
  type Peer,
  QUEUED,
  type SendResult,
  type ServeOptions,
  unwrapped,
} from "../lib/session.ts";
import { bunRedis } from "./redis.ts";

/** One thread's server and the context its handler and sessions share. */
export interface Listening {
  server: Server<BunSocket>;
  context: Context;
}

/** Starts Echo alone in this process, draining on SIGTERM/SIGINT. */
export function serve(settings: Settings, options: ServeOptions = {}): Server<BunSocket> {
  const { server, context } = listen(settings, options);
  const stop = () => shutDown(context, { stopListening: () => server.stop(false), exit: process.exit });
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, stop);
  return server;
}

/** Starts Echo on `Bun.serve` with its native WebSocket handler, in this thread; signals are the caller's. */
export function listen(settings: Settings, options: ServeOptions = {}): Listening {
  const { config, tls } = settings;
  const runtime = `Bun ${Bun.version}`;
  const logger = createLogger(console.log, { format: settings.logFormat, level: config.logLevel, batch: true });
  // A copy, so that /info can report the port actually bound when 0 was asked for.
  const context = createContext({ ...config }, {
    runtime,
    logger,
    extensions: bunExtensions(config.deflate),
    pid: process.pid,
  });
  if (config.fleetUrl) {
    context.fleet.push(new SharedFleet(redisStore(bunRedis(config.fleetUrl)), config.fleetUrl, context).start());
  }
  const opening: Opening = { context, wrap: options.peer ?? unwrapped };
  const handler = createHandler((request, connection) => {
    const headers = connection.protocol ? { "sec-websocket-protocol": connection.protocol } : undefined;
    // Bun answers the first offered subprotocol by itself unless told otherwise; with none chosen
    // (the protocol=none knob) it must not see the offer.
    if (!headers && connection.request.protocol !== null) request.headers.delete("sec-websocket-protocol");
    if (!server.upgrade(request, { data: new BunSocket(connection), headers })) {
      return new Response("The runtime refused this WebSocket upgrade\n", { status: 400 });
    }
    if (connection.id % UPGRADES_PER_COLLECTION === 0) edenGC();
    return undefined;
  }, context);

  const server: Server<BunSocket> = Bun.serve<BunSocket>({
    hostname: config.host,
    port: config.port,
    // The threads --workers starts share the port; the kernel spreads connections among them.
    reusePort: config.workers !== 1,
    tls,
    fetch: (request, server) => handler(request, { remoteAddress: server.requestIP(request)?.address ?? "" }),
    error: (error) => internalError(error, context),
    websocket: {
      // Bun negotiates permessage-deflate itself (lib/deflate.ts predicts its answer for /info);
      // each echo asks for compression by lib's rule.
      perMessageDeflate: COMPRESSORS[config.deflate],
      // Bun enforces the size after decompression and closes with 1009 itself.
      maxPayloadLength: config.maxMessageBytes,
      // The session pauses reading at the first backpressure, so the queue stays far below this;
      // the limit only guarantees Bun never drops an echo that was already read.
      backpressureLimit: config.maxBufferedBytes + config.maxMessageBytes,
      // Bun's idle timeout closes TCP without a close frame; the hub's keepalive closes with 1001.
      idleTimeout: 0,
      sendPings: false,
      open: (ws) => ws.data.open(ws, opening),
      message: (ws, message) => ws.data.receive(message),
      drain: (ws) => ws.data.session?.drained(),
      ping: (ws) => ws.data.session?.heard(),
      pong: (ws) => ws.data.session?.pong(),
      close: (ws, code, reason) => ws.data.session?.closed(code, reason, { clean: code !== 1006 }),
    },
  });
  context.config.port = server.port ?? config.port;
  const line = listeningLine({ hostname: server.hostname ?? config.host, port: server.port ?? config.port }, {
    runtime,
    tls: tls !== undefined,
  });
  logger.announce("listening", line, { port: server.port, pid: process.pid, id: context.process.id });

  if (config.idleTimeoutSeconds > 0) context.hub.startKeepalive(config.idleTimeoutSeconds * 1000);
  return { server, context };
}

const COMPRESSORS: Record<DeflateMode, boolean | { compress: "dedicated"; decompress: "dedicated" }> = {
  shared: true,
  dedicated: { compress: "dedicated", decompress: "dedicated" },
  off: false,
};

/**
 * Upgrades between two young-generation collections Echo asks of JavaScriptCore. An upgrade allocates
 * ~1.3 KB of heap, ~0.5 KB of which the connection keeps.
 * Left to pace itself, the collector let a burst of thousands of upgrades pile their garbage up before
 * it ran, some rounds not at all, and the pages that garbage took stayed resident after it was
 * collected: +1.5–2 KB per connection over the bare echo in such rounds. An eden collection only visits
 * what was allocated since the last one; every 1,000 upgrades it cost no measurable handshake rate
 * (docs/benchmarks.md, "Handshake garbage on Bun").
 */
export const UPGRADES_PER_COLLECTION = 1000;

/**
 * From this size on, a received binary message's buffer is freed once echoed (`EchoSession.receiveOwned`).
 * In sliced A/B against leaving them to the collector, 8 KiB binary echoes ran at 1.03×, 16 KiB at 1.04×,
 * 64 KiB at 1.18× and 1 MiB at 1.14×, but 4 KiB at 0.97× (docs/benchmarks.md, "Received buffers").
 */
const RELEASE_FROM_BYTES = 8 * 1024;

/** From this size on, echoes on connections without deflate are framed whole (see `#framedWholeFrom`). */
const FRAMED_WHOLE_BYTES = 1024 * 1024;

/**
 * One Bun connection, as its socket's `data`: the facts captured at upgrade, then, once open, the
 * session and the session's peer (one object per connection).
 */
class BunSocket implements Peer {
  readonly connection: Connection;
  session: EchoSession | undefined;
  #ws!: ServerWebSocket<BunSocket>;
  /**
   * From this size on (UTF-16 units for text), echoes ask to be compressed so as to be framed whole.
   * On a connection without permessage-deflate the flag changes nothing on the wire (Bun ignores it
   * there) but how uWebSockets sends: without it, a message of 16 KiB or more is written as header and
   * payload straight to the socket; with it, the frame is built whole first. On loopback here the first
   * is faster up to 512 KiB and the second from 1 MiB (docs/benchmarks.md, "Large frames on Bun").
   * With deflate the flag compresses, so only lib's rule sets it there.
   */
  readonly #framedWholeFrom: number;
  constructor(connection: Connection) {
    this.connection = connection;
    this.#framedWholeFrom = connection.extensions === "" ? FRAMED_WHOLE_BYTES : Infinity;
  }
  open(ws: ServerWebSocket<BunSocket>, { context, wrap }: Opening): void {
    this.#ws = ws;
    this.session = new EchoSession(wrap(this), this.connection, context);
  }
  /** Bun gives each binary message a buffer of its own, which the session frees once echoed. */
  receive(message: string | Buffer): void {
    if (typeof message === "string" || message.byteLength < RELEASE_FROM_BYTES) this.session?.receive(message);
    else this.session?.receiveOwned(message);
  }
  send(message: Message, compress: boolean): SendResult {
    // sendText and sendBinary rather than send: Bun's JIT calls them directly when the type is known.
    // Each returns the payload's size (also when it compresses), -1 when queued, 0 when dropped.
    let size, result;
    if (typeof message === "string") {
      size = message.length;
      result = this.#ws.sendText(message, compress || size >= this.#framedWholeFrom);
    } else {
      size = message.byteLength;
      result = this.#ws.sendBinary(message, compress || size >= this.#framedWholeFrom);
    }
    if (result > 0) return result;
    if (result === -1) return QUEUED;
    // An empty message on an open socket is also 0.
    return size === 0 && this.#ws.readyState === 1 ? 0 : DROPPED;
  }
  bufferedAmount(): number {
    return this.#ws.getBufferedAmount();
  }
  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }
  pause(): void {
    this.#ws.pause();
  }
  resume(): void {
    this.#ws.resume();
  }
  ping(): void {
    this.#ws.ping();
  }
  terminate(): void {
    this.#ws.terminate();
  }
}

/**
 * Whether this runs as a single executable (`bun build --compile`, `npm run build`): Bun serves the
 * bundled entry from its embedded file system, `/$bunfs/` on Linux and macOS (Bun docs, "Single-file
 * executable").
 */
const COMPILED = import.meta.path.startsWith("/$bunfs/");

/** The name `--help` and error lines use. */
const PROGRAM = COMPILED ? basename(process.execPath) : "bun run bun/server.ts";

function cliOptions(program: string): CliOptions {
  return {
    env: process.env,
    program,
    exit: process.exit,
    readTextFile: (path) => readFileSync(path, "utf8"),
    isTerminal: process.stdout.isTTY === true,
  };
}

/** Reads flags and environment, then serves or starts the worker threads; exits 2 on a bad option. */
export function start(options: ServeOptions = {}): Server<BunSocket> | undefined {
  const args = Bun.argv.slice(2);
  if (isHealthcheck(args)) {
    void runHealthcheck(args.slice(1));
    return undefined;
  }
  const settings = loadConfig(args, cliOptions(PROGRAM));
  if (settings.config.fleetUrl?.engine === "kv") {
    console.error("echo: FLEET_URL: kv: is Deno KV, which Bun does not have; use redis://host:port");
    process.exit(2);
  }
  if (settings.config.workers === 1) return serve(settings, options);
  startWorkers(settings);
  return undefined;
}

/** What the main thread tells a worker thread (bun/worker.ts). */
export type WorkerCommand = { serve: Settings } | "drain";

/**
 * Runs `workers` threads of this process (bun/worker.ts), each serving the same port with reusePort
 * (Linux spreads connections among them) and joining the in-process fleet, so /info finds a
 * connection whichever thread holds it. This thread serves nothing: it picks the port, relays
 * SIGTERM/SIGINT to every thread, and exits once all have, with the first failing status.
 */
function startWorkers(settings: Settings): void {
  const count = settings.config.workers || navigator.hardwareConcurrency;
  // reusePort would give each thread its own free port for port 0, so pick one first.
  const port = settings.config.port || freePort(settings.config.host);
  const serving: WorkerCommand = { serve: { ...settings, config: { ...settings.config, port } } };
  const statuses = Array.from({ length: count }, () => {
    // A URL beside this file: `bun build --compile bun/server.ts bun/worker.ts` embeds the worker there.
    const worker = new Worker(new URL("./worker.ts", import.meta.url));
    const closed = new Promise<number>((resolve) => {
      worker.addEventListener("close", (event) => resolve((event as CloseEvent).code));
      worker.addEventListener("error", (event) => {
        console.error(`echo: a worker thread failed: ${(event as ErrorEvent).message}`);
        resolve(1);
      });
    });
    worker.postMessage(serving);
    return { worker, closed };
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    // A second signal reaches each thread's shutDown again, which then stops waiting.
    process.on(signal, () => statuses.forEach(({ worker }) => worker.postMessage("drain" satisfies WorkerCommand)));
  }
  void Promise.all(statuses.map(({ closed }) => closed)).then((codes) =>
    process.exit(codes.find((code) => code !== 0) ?? 0)
  );
}

/**
 * `healthcheck [options]`: exits 0 when the server these options describe answers `/healthz`, 1
 * otherwise. Over TLS the certificate is not checked: the question is whether this host's server is
 * alive, and its certificate is made for a public name, not for the loopback address asked.
 */
async function runHealthcheck(args: string[]): Promise<never> {
  const settings = loadConfig(args, cliOptions(`${PROGRAM} healthcheck`));
  const { code, message } = await healthcheck(
    settings,
    (url, signal) => fetch(url, { signal, tls: { rejectUnauthorized: false } }),
  );
  (code === 0 ? console.log : console.error)(message);
  return process.exit(code);
}

function freePort(hostname: string): number {
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

// Bun.isMainThread too: in a compiled binary bun/worker.ts carries this module inlined, and there
// import.meta.main is true for the worker's own entry.
if (import.meta.main && Bun.isMainThread) start();
