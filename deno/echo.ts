/**
 * Echo on Deno: the handler, the socket adapter and the server, shared by the two Deno entries,
 * `main.ts` (`deno run`) and `serve.ts` (`deno serve`). With those two, the only code that talks to
 * Deno; the behaviour lives in `lib/`.
 *
 * @module
 */
import { listeningLine, loadConfig, type Settings, shutDown } from "../lib/cli.ts";
import type { Connection } from "../lib/connection.ts";
import { type Context, createContext } from "../lib/context.ts";
import { DENO_EXTENSIONS } from "../lib/deflate.ts";
import { createHandler, internalError } from "../lib/handler.ts";
import { healthcheck } from "../lib/healthcheck.ts";
import { BroadcastChannel } from "node:worker_threads";
import { FLEET_CHANNEL, type FleetChannel } from "../lib/channel_fleet.ts";
import { createLogger, describeError } from "../lib/log.ts";
import { joinProcessFleet } from "../lib/process_fleet.ts";
import { redisStore } from "../lib/redis_store.ts";
import { SharedFleet } from "../lib/shared_fleet.ts";
import {
  EchoSession,
  type Message,
  type Opening,
  type Peer,
  QUEUED,
  type SendResult,
  type ServeOptions,
  unwrapped,
} from "../lib/session.ts";
import { messageSize } from "../lib/utf8.ts";
import { denoKv } from "./kv.ts";
import { denoRedis } from "./redis.ts";

/** Echo's fetch-style handler on Deno, for `Deno.serve` here and for `deno serve`'s default export. */
export interface DenoEcho {
  context: Context;
  fetch(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response | Promise<Response>;
  /** Prints the listening line and records the bound port for /info. */
  onListen(address: Deno.NetAddr): void;
}

/** Builds the context and handler one isolate serves with. */
export function createEcho(settings: Settings, options: ServeOptions = {}): DenoEcho {
  const { config, tls } = settings;
  const runtime = `Deno ${Deno.version.deno}`;
  const logger = createLogger(stdoutLines(), {
    format: settings.logFormat,
    level: config.logLevel,
    batch: true,
  });
  // A copy, so that /info can report the port actually bound when 0 was asked for.
  const context = createContext({ ...config }, {
    runtime,
    logger,
    extensions: DENO_EXTENSIONS,
    pid: Deno.pid,
    unsupportedKnobs: DENO_MISSING_KNOBS,
  });
  // `deno serve --parallel` calls onListen in one isolate only: the others learn the port from the
  // fleet, so that each isolate's /info reports the port it serves.
  let listened = false;
  // node:worker_threads' BroadcastChannel, the same channel as the global one but with unref(): the
  // global one holds the event loop open, so `deno serve` could not exit after its SIGTERM drain.
  const channel = new BroadcastChannel(FLEET_CHANNEL);
  channel.unref();
  joinProcessFleet(context, channel as unknown as FleetChannel, {
    port: () => listened ? context.config.port : 0,
    heard: (member) => {
      if (!listened && member.port) context.config.port = member.port;
    },
  });
  const url = config.fleetUrl;
  if (url) {
    const store = url.engine === "kv" ? denoKv(url) : redisStore(denoRedis(url));
    context.fleet.push(new SharedFleet(store, url, context).start({ unref: Deno.unrefTimer }));
  }
  const opening: Opening = { context, wrap: options.peer ?? unwrapped };
  const handler = createHandler((request, connection) => upgrade(request, connection, opening), context);
  return {
    context,
    fetch: (request, info) => handler(request, { remoteAddress: info.remoteAddr.hostname })!,
    onListen(address) {
      listened = true;
      context.config.port = address.port;
      const line = listeningLine(address, { runtime, tls: tls !== undefined });
      logger.announce("listening", line, { port: address.port, pid: Deno.pid, id: context.process.id });
    },
  };
}

/**
 * Where log lines go: straight to stdout as bytes. `console.log` formats its argument first, which cost
 * ~9% of Echo's handshakes per CPU-second at `LOG_LEVEL=info`. Deno Deploy collects console output, so
 * there (`DENO_DEPLOYMENT_ID` is set) lines go through `console.log`. A stdout that fails (a closed pipe)
 * loses the lines, not the server.
 *
 * The text is encoded into one buffer kept for the process: `encode(text + "\n")` copied each batch of
 * lines twice, a joined string and its bytes, ~400 bytes of garbage per handshake.
 */
function stdoutLines(): (text: string) => void {
  if (Deno.env.get("DENO_DEPLOYMENT_ID")) return console.log;
  const encoder = new TextEncoder();
  const buffer = new Uint8Array(STDOUT_BUFFER_BYTES);
  return (text) => {
    try {
      for (let rest = text;;) {
        const { read, written } = encoder.encodeInto(rest, buffer);
        if (read === rest.length && written < buffer.length) {
          buffer[written] = NEWLINE;
          writeAll(buffer.subarray(0, written + 1));
          return;
        }
        if (!writeAll(buffer.subarray(0, written))) return;
        rest = rest.slice(read);
      }
    } catch {
      // Nowhere to report it: stderr is most likely gone too.
    }
  };
}

/** A batch of log lines is ~50 KB (256 lines); a longer text is written in several parts. */
const STDOUT_BUFFER_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** Writes all of `bytes` to stdout; false if stdout takes nothing, which would make this spin. */
function writeAll(bytes: Uint8Array): boolean {
  while (bytes.length > 0) {
    const written = Deno.stdout.writeSync(bytes);
    if (written === 0) return false;
    bytes = bytes.subarray(written);
  }
  return true;
}

/**
 * How long after its listener failed Echo listens again. Deno.serve's accept loop ends for good on an
 * accept error such as EMFILE (no file descriptor left): unhandled, its rejected `finished` ended the
 * process (docs/limits.md, "File descriptors"). The open connections live on meanwhile.
 */
const RELISTEN_MS = 1000;

/** Starts Echo on Deno's native HTTP server and WebSocket; listens again whenever the listener fails. */
export function serve(settings: Settings, options: ServeOptions = {}): void {
  const { config, tls } = settings;
  const echo = createEcho(settings, options);
  const { context } = echo;
  let server: Deno.HttpServer<Deno.NetAddr>;
  const listen = (onListen: (address: Deno.NetAddr) => void) => {
    // After the first time, on the port actually bound (onListen recorded it).
    server = Deno.serve({
      hostname: config.host,
      port: context.config.port,
      ...tls,
      onListen,
      onError: (error) => internalError(error, context),
    }, echo.fetch);
    server.finished.catch(relisten);
  };
  const relisten = (error: unknown) => {
    if (context.hub.draining) return;
    context.logger.log("warn", "listener failed", { error: describeError(error), retryMs: RELISTEN_MS });
    setTimeout(() => {
      try {
        listen((address) => context.logger.log("info", "listening again", { port: address.port }));
      } catch (again) {
        relisten(again);
      }
    }, RELISTEN_MS);
  };
  listen(echo.onListen);

  const stop = () =>
    shutDown(context, {
      // A listener that failed has nothing left to stop.
      stopListening: () => server.shutdown().catch(() => {}),
      exit: Deno.exit,
    });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch (error) {
      // Deno Deploy runs isolates without OS signals and may refuse the listener; the platform
      // drains and stops isolates itself there, so serving without a drain is the right outcome.
      context.logger.log("debug", "no signal listener", { signal, error: String(error) });
    }
  }
}

/** What Deno's server-side WebSocket has no API for. */
const DENO_MISSING_KNOBS = {
  ping_ms: "not available on Deno: its WebSocket can neither send a ping nor report a pong",
  drop_after: "not available on Deno: its WebSocket cannot cut the TCP connection without a close frame",
};

const ONCE = { once: true };

function upgrade(request: Request, connection: Connection, opening: Opening): Response {
  const { context } = opening;
  // Deno pings a silent peer at half the idle timeout and closes it with 1001 at the timeout.
  const { socket, response } = Deno.upgradeWebSocket(request, {
    idleTimeout: context.config.idleTimeoutSeconds,
  });
  // Deno matches the offered protocols only when separated by ", " exactly, so the choice
  // made in lib/ is written onto the 101 here instead of being passed to upgradeWebSocket.
  if (connection.protocol) response.headers.set("sec-websocket-protocol", connection.protocol);
  socket.binaryType = "arraybuffer";
  const listener = new DenoSocket(socket, connection, opening);
  // Deno keeps an entry per listener for the socket's life; `once` frees the "open" one when it fires:
  // ~250 bytes less JavaScript heap per idle connection. No `error` listener: once open, an error is
  // always followed by `close`, and a failed upgrade has no session to end.
  socket.addEventListener("open", listener, ONCE);
  socket.addEventListener("message", listener);
  socket.addEventListener("close", listener);
  return response;
}

/**
 * How many bytes a connection sends between two reads of its `bufferedAmount`, which is a call into
 * Deno: read after every echo, it cost ~2% of the 32-byte echo rate. A client that stops reading is
 * caught at most this many bytes (and one message) later than with a read per echo.
 */
const CHECK_BUFFERED_BYTES = 16 * 1024;

/**
 * One Deno connection: the listener of its socket's events and its session's peer. One object
 * per connection rather than three `on…` handlers, which Deno wraps in a closure each, and a peer.
 * Deno cannot stop reading a client or deflate, so the session caps bufferedAmount instead; its
 * `send` reports no size, so the message is sized here.
 */
class DenoSocket implements Peer, EventListenerObject {
  #socket: WebSocket;
  #connection: Connection;
  #session: EchoSession | undefined;
  #opening: Opening;
  /** Bytes sent since `bufferedAmount` was last read. */
  #unchecked = 0;

  constructor(socket: WebSocket, connection: Connection, opening: Opening) {
    this.#socket = socket;
    this.#connection = connection;
    this.#opening = opening;
  }

  handleEvent(event: Event): void {
    if (event.type === "message") {
      const data = (event as MessageEvent<string | ArrayBuffer>).data;
      if (typeof data === "string") this.#session?.receive(data);
      // Freed at every size: in sliced A/B against leaving them to the collector, 256 B binary echoes ran at
      // 1.06×, 1 KiB at 1.07×, 4 KiB at 1.35×, 16 KiB at 1.50× (docs/benchmarks.md, "Received buffers").
      else this.#session?.receiveOwned(new Uint8Array(data));
    } else if (event.type === "open") {
      const { context, wrap } = this.#opening;
      this.#session = new EchoSession(wrap(this), this.#connection, context);
    } else if (event.type === "close") {
      const { code, reason, wasClean } = event as CloseEvent;
      this.#session?.closed(code, reason, { clean: wasClean });
    }
  }

  send(message: Message): SendResult {
    this.#socket.send(message);
    const size = messageSize(message);
    this.#unchecked += size;
    if (this.#unchecked < CHECK_BUFFERED_BYTES) return size;
    this.#unchecked = 0;
    return this.#socket.bufferedAmount > 0 ? QUEUED : size;
  }
  bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }
  /**
   * Deno's server WebSocket ends the TCP connection, close frame unsent, when a message arrives after
   * `close()` (docs/limits.md, "Close frames on Deno"). A getter: no field on each connection.
   */
  get losesCloseToLateInput(): boolean {
    return true;
  }
  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }
}

/**
 * Reads flags and environment; prints help or a bad option's error and exits. Asks for env access first,
 * then for net access: `listen` (`deno run`) to the configured address it will open; otherwise (`deno
 * serve`, which allows its own listening address, and the healthcheck) to any host, which the fleet's
 * engine (`FLEET_URL`) and the healthcheck connect to, so that every Deno command fails the same way
 * without `--allow-net`.
 */
export function readSettings(
  program: string,
  options: { listen: boolean },
  args: readonly string[] = Deno.args,
): Settings {
  requirePermission({ name: "env" }, "env access (--allow-env) to read its configuration", program);
  const settings = loadConfig(args, {
    env: Deno.env.toObject(),
    program,
    exit: Deno.exit,
    // Called only when TLS_CERT_FILE and TLS_KEY_FILE are set, so Deploy needs no file access. A missing
    // --allow-read is reported by loadConfig as the file it could not read.
    readTextFile: Deno.readTextFileSync,
    isTerminal: Deno.stdout.isTerminal(),
  });
  if (settings.config.workers !== 1) {
    console.error("echo: WORKERS: only Bun starts workers; on Deno run `deno serve --parallel serve.ts`");
    Deno.exit(2);
  }
  const address = `${settings.config.host}:${settings.config.port}`;
  requirePermission(
    options.listen ? { name: "net", host: address } : { name: "net" },
    options.listen ? `net access (--allow-net) to listen on ${address}` : "net access (--allow-net)",
    program,
  );
  return settings;
}

/**
 * `healthcheck [options]`: exits 0 when the server these options describe answers `/healthz`, 1
 * otherwise. Deno's fetch cannot skip certificate checks, so over TLS it trusts the server's own
 * certificate as its authority: a self-signed certificate for `localhost` passes (docs/deploy.md).
 */
export async function runHealthcheck(program: string, args: readonly string[]): Promise<never> {
  const settings = readSettings(`${program} healthcheck`, { listen: false }, args);
  const client = settings.tls && Deno.createHttpClient({ caCerts: [settings.tls.cert] });
  const { code, message } = await healthcheck(
    settings,
    (url, signal) => fetch(url, client ? { signal, client } : { signal }),
  );
  (code === 0 ? console.log : console.error)(message);
  return Deno.exit(code);
}

/**
 * Exits 2 with one line naming the permission and the command that grants it, unless Deno has granted
 * it. Asked before the first use, so that Echo neither dies with an uncaught `NotCapable` and its stack
 * trace nor, on a terminal, stops at Deno's interactive prompt (a server has nobody to answer it).
 */
function requirePermission(descriptor: Deno.PermissionDescriptor, what: string, program: string): void {
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync(descriptor).state;
  } catch {
    return; // a host without the permissions API (an embedder): the first use reports it instead
  }
  if (state === "granted") return;
  console.error(`echo: needs ${what}; start it with: ${program}`);
  Deno.exit(2);
}
