/**
 * Echo's Deno entry: `deno run --allow-net --allow-env main.ts`, and the same file for
 * `deno serve --parallel --allow-net --allow-env main.ts` (one listener per isolate).
 * The only file that talks to Deno; the behaviour lives in `lib/`.
 *
 * @module
 */
import { listeningLine, loadConfig, type Settings, shutDown } from "./lib/cli.ts";
import type { Connection } from "./lib/connection.ts";
import { type Context, createContext } from "./lib/context.ts";
import { DENO_EXTENSIONS } from "./lib/deflate.ts";
import { createHandler, internalError } from "./lib/handler.ts";
import { createLogger } from "./lib/log.ts";
import {
  EchoSession,
  type Message,
  type Opening,
  type Peer,
  type PeerWrapper,
  QUEUED,
  type SendResult,
  unwrapped,
} from "./lib/session.ts";
import { messageSize } from "./lib/utf8.ts";

/** Lets a caller (a test fixture, an embedding program) wrap each connection's socket. */
export interface ServeOptions {
  peer?: PeerWrapper;
}

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
  const opening: Opening = { context, wrap: options.peer ?? unwrapped };
  const handler = createHandler((request, connection) => upgrade(request, connection, opening), context);
  return {
    context,
    fetch: (request, info) => handler(request, { remoteAddress: info.remoteAddr.hostname })!,
    onListen(address) {
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

/** Starts Echo on Deno's native HTTP server and WebSocket. */
export function serve(settings: Settings, options: ServeOptions = {}): Deno.HttpServer<Deno.NetAddr> {
  const { config, tls } = settings;
  const echo = createEcho(settings, options);
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    ...tls,
    onListen: echo.onListen,
    onError: (error) => internalError(error, echo.context),
  }, echo.fetch);

  const stop = () => shutDown(echo.context, { stopListening: () => server.shutdown(), exit: Deno.exit });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch (error) {
      // Deno Deploy runs isolates without OS signals and may refuse the listener; the platform
      // drains and stops isolates itself there, so serving without a drain is the right outcome.
      echo.context.logger.log("debug", "no signal listener", { signal, error: String(error) });
    }
  }
  return server;
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
  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }
}

/** Reads flags and environment; prints help or a bad option's error and exits. */
export function readSettings(program: string): Settings {
  const settings = loadConfig(Deno.args, {
    env: Deno.env.toObject(),
    program,
    exit: Deno.exit,
    // Called only when TLS_CERT_FILE and TLS_KEY_FILE are set, so Deploy needs no file access.
    readTextFile: Deno.readTextFileSync,
    isTerminal: Deno.stdout.isTerminal(),
  });
  if (settings.config.workers !== 1) {
    console.error("echo: WORKERS: only Bun starts workers; on Deno run `deno serve --parallel main.ts`");
    Deno.exit(2);
  }
  return settings;
}

/** Reads flags and environment, then serves; exits 2 on a bad option. */
export function start(options: ServeOptions = {}): Deno.HttpServer<Deno.NetAddr> {
  return serve(readSettings(PROGRAM), options);
}

const PROGRAM = "deno run --allow-net --allow-env main.ts";

let declarative: DenoEcho | undefined;

/** The echo `deno serve` serves, built on its first use in each isolate. */
function declarativeEcho(): DenoEcho {
  if (declarative) return declarative;
  declarative = createEcho(readSettings("deno serve --parallel --allow-net --allow-env main.ts"));
  // `deno serve` owns the listener: its --port/--host (or DENO_SERVE_ADDRESS) decide the address.
  const ignored = ["PORT", "HOST"].filter((name) => Deno.env.get(name));
  if (ignored.length > 0) {
    declarative.context.logger.log("warn", "ignored under deno serve", {
      options: ignored.join(","),
      use: "deno serve --port/--host or DENO_SERVE_ADDRESS=tcp:HOST:PORT",
    });
  }
  return declarative;
}

/** What `deno serve` serves; under `deno run` Deno only reads it (and warns that it exists). */
export default {
  fetch: (request, info) => declarativeEcho().fetch(request, info as Deno.ServeHandlerInfo<Deno.NetAddr>),
  onListen: (address) => declarativeEcho().onListen(address as Deno.NetAddr),
} satisfies Deno.ServeDefaultExport;

/**
 * Starts Echo's own server unless `deno serve` is serving the default export. Both run this module
 * with `import.meta.main` true and no API tells them apart (denoland/deno#25179); `deno serve`
 * gives itself away by calling the global `Deno.serve` once this module has been evaluated, in
 * every isolate, before any timer fires. Watching for that call for one task is the tell.
 */
function startUnlessDeclarative(settings: Settings): void {
  const global = Deno as { serve: typeof Deno.serve };
  const serveGlobal = global.serve;
  let served = false;
  global.serve = ((...args: Parameters<typeof Deno.serve>) => {
    served = true;
    return serveGlobal(...args);
  }) as typeof Deno.serve;
  setTimeout(() => {
    global.serve = serveGlobal;
    if (!served) serve(settings);
  }, 0);
}

// Options are read now, so that a bad one exits with its one line before Deno looks at the module.
if (import.meta.main) startUnlessDeclarative(readSettings(PROGRAM));
