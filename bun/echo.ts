/**
 * Echo on Bun: the start sequence given Bun's facts, and `Bun.serve` with its native WebSocket handler,
 * in this thread. Signals are the caller's (`bun/server.ts`, or the main thread for `bun/worker.ts`).
 *
 * @module
 */
import type { Server } from "bun";
import { hostname } from "node:os";
import { bunExtensions } from "../lib/deflate.ts";
import type { FleetChannel } from "../lib/fleet/channel.ts";
import { redisStore } from "../lib/fleet/redis_store.ts";
import type { Settings } from "../lib/server/cli.ts";
import { internalError } from "../lib/server/handler.ts";
import { type Echo, type ServeOptions, startEcho } from "../lib/server/start.ts";
import { Lingering } from "./lingering.ts";
import { bunRedis } from "./redis.ts";
import { type BunSocket, upgrade, webSocketHandler } from "./socket.ts";

/** One thread's server and the Echo it serves. */
export interface Listening {
  server: Server<BunSocket>;
  echo: Echo;
  /** Connections closed during the drain that Bun may still hold, waiting for the client's answer. */
  lingering: Lingering;
}

/**
 * The graceful shutdown of one thread's server. Bun reports a close Echo starts as done once its
 * close frame is out, so the drain also waits for the connections Bun still holds (`lingering`),
 * with the listener open (`/readyz` answers 503), up to SHUTDOWN_GRACE_SECONDS.
 */
export function drain({ server, echo, lingering }: Listening): Promise<never> {
  return echo.drain({
    stopListening: () => server.stop(false),
    exit: process.exit,
    lingering: () => lingering.count(),
  });
}

/** Starts Echo on `Bun.serve` in this thread; `channel` joins the other threads of `--workers`. */
export function listen(settings: Settings, options: ServeOptions = {}, channel?: FleetChannel): Listening {
  const { config, tls } = settings;
  const lingering = new Lingering(() => server.port ?? config.port);
  // The client's port, for the upgrade that follows in the same call (the handler runs synchronously
  // up to `upgrade`): the drain finds the connection by it once Bun has stopped reporting on it.
  let clientPort = 0;
  const echo = startEcho(settings, {
    name: `Bun ${Bun.version}`,
    pid: process.pid,
    // Bun has no permissions: HOSTNAME where the environment sets it, else the kernel's name.
    hostname: () => process.env.HOSTNAME || hostname(),
    write: console.log,
    extensions: bunExtensions(config.deflate),
    pathNote: BUN_PATH_NOTE,
    channel,
    fleetStore: (url) => redisStore(bunRedis(url)),
    upgrade: (request, connection) => upgrade(server, request, connection, clientPort),
  }, options);
  const { context, handler } = echo;
  const server: Server<BunSocket> = Bun.serve<BunSocket>({
    hostname: config.host,
    port: config.port,
    // The threads --workers starts share the port; the kernel spreads connections among them.
    reusePort: config.workers !== 1,
    tls,
    fetch: (request, server) => {
      const client = server.requestIP(request);
      clientPort = client?.port ?? 0;
      return handler(request, { remoteAddress: client?.address ?? "" });
    },
    error: (error) => internalError(error, context),
    websocket: webSocketHandler(config, echo.opening, lingering),
  });
  echo.announce({ hostname: server.hostname ?? config.host, port: server.port ?? config.port });
  // Bun's own idle timeout closes TCP without a close frame, so Echo pings and closes by itself.
  if (config.idleTimeoutSeconds > 0) context.hub.startKeepalive(config.idleTimeoutSeconds * 1000);
  return { server, echo, lingering };
}

/**
 * Bun builds `Request.url` with its URL parser, which resolves `.` and `..` segments (in any case of
 * `%2e` too) and reads `\` as `/`; Bun.serve keeps the request target as sent nowhere a program can
 * read (oven-sh/bun#4001 asked for this normalisation; docs/http.md, "The path on Bun").
 */
const BUN_PATH_NOTE = "Bun resolves . and .. segments (also written %2e) and reads \\ as / before Echo " +
  "sees the request, so the path sent may have had them";
