/**
 * Echo's Bun entry: `bun run bun/server.ts`.
 * The only place that talks to Bun; the behaviour lives in `lib/`.
 *
 * @module
 */
import { edenGC } from "bun:jsc";
import { readFileSync } from "node:fs";
import type { Server, ServerWebSocket } from "bun";
import { listeningLine, loadConfig, type Settings, shutDown } from "../lib/cli.ts";
import type { Connection } from "../lib/connection.ts";
import { createContext } from "../lib/context.ts";
import { bunExtensions, type DeflateMode } from "../lib/deflate.ts";
import { createHandler, internalError } from "../lib/handler.ts";
import { createLogger } from "../lib/log.ts";
import {
  DROPPED,
  EchoSession,
  type Message,
  type Opening,
  type Peer,
  type PeerWrapper,
  QUEUED,
  type SendResult,
  unwrapped,
} from "../lib/session.ts";

/** Lets a caller (a test fixture, an embedding program) wrap each connection's socket. */
export interface ServeOptions {
  peer?: PeerWrapper;
}

/** Starts Echo on `Bun.serve` with its native WebSocket handler. */
export function serve(settings: Settings, options: ServeOptions = {}): Server<BunSocket> {
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
    // Workers started by --workers share the port; the kernel spreads connections among them.
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
  const stop = () => shutDown(context, { stopListening: () => server.stop(false), exit: process.exit });
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, stop);
  return server;
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

/** Set in the environment of the processes `--workers` starts. */
const WORKER_MARK = "ECHO_WORKER";

/** Reads flags and environment, then serves or starts the workers; exits 2 on a bad option. */
export function start(options: ServeOptions = {}): Server<BunSocket> | undefined {
  const settings = loadConfig(Bun.argv.slice(2), {
    env: process.env,
    program: "bun run bun/server.ts",
    exit: process.exit,
    readTextFile: (path) => readFileSync(path, "utf8"),
    isTerminal: process.stdout.isTTY === true,
  });
  if (settings.config.workers === 1 || process.env[WORKER_MARK]) return serve(settings, options);
  startWorkers(settings);
  return undefined;
}

/**
 * Runs `workers` copies of this program, each serving the same port with reusePort (Linux
 * spreads connections among them); this process only forwards signals and exits with them.
 */
function startWorkers(settings: Settings): void {
  const count = settings.config.workers || navigator.hardwareConcurrency;
  // reusePort would give each worker its own free port for port 0, so pick one first.
  const port = settings.config.port || freePort(settings.config.host);
  const children = Array.from({ length: count }, (_, index) =>
    // The last --port wins, so every worker serves the port chosen here.
    Bun.spawn([process.execPath, ...process.argv.slice(1), "--port", String(port)], {
      env: { ...process.env, [WORKER_MARK]: String(index) },
      stdio: ["ignore", "inherit", "inherit"],
    }));
  const forward = (signal: NodeJS.Signals) => children.forEach((child) => child.kill(signal));
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => forward(signal));
  void Promise.all(children.map((child) => child.exited)).then((codes) =>
    process.exit(codes.find((code) => code !== 0) ?? 0)
  );
}

function freePort(hostname: string): number {
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

if (import.meta.main) start();
