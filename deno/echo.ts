/**
 * Echo on Deno: the start sequence given Deno's facts, shared by the two Deno entries, `main.ts`
 * (`deno run`, through `deno/server.ts`) and `serve.ts` (`deno serve`).
 *
 * @module
 */
import { BroadcastChannel } from "node:worker_threads";
import { DENO_EXTENSIONS } from "../lib/deflate.ts";
import { FLEET_CHANNEL, type FleetChannel } from "../lib/fleet/channel.ts";
import { redisStore } from "../lib/fleet/redis_store.ts";
import type { Settings } from "../lib/server/cli.ts";
import { type Echo, type ServeOptions, startEcho } from "../lib/server/start.ts";
import { denoKv } from "./kv.ts";
import { denoRedis } from "./redis.ts";
import { DENO_MISSING_KNOBS, type DenoOpening, keepFreedHeap, upgrade } from "./socket.ts";
import { stdoutLines } from "./stdout.ts";

/** Echo's fetch-style handler on Deno, for `Deno.serve` and for `deno serve`'s default export. */
export interface DenoEcho extends Echo {
  fetch(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response | Promise<Response>;
  /**
   * To be called just before Deno's own graceful shutdown of the server starts (`server.shutdown()`, or
   * `deno serve`'s on a signal): from then on Deno closes the open sockets itself.
   */
  closedByDeno(): void;
}

/** Builds the context and handler one isolate serves with. */
export function createEcho(settings: Settings, options: ServeOptions = {}): DenoEcho {
  keepFreedHeap();
  // node:worker_threads' BroadcastChannel, the same channel as the global one but with unref(): the
  // global one holds the event loop open, so `deno serve` could not exit after its SIGTERM drain.
  const channel = new BroadcastChannel(FLEET_CHANNEL);
  channel.unref();
  const echo = startEcho(settings, {
    name: `Deno ${Deno.version.deno}`,
    pid: Deno.pid,
    hostname,
    write: stdoutLines(),
    extensions: DENO_EXTENSIONS,
    unsupportedKnobs: DENO_MISSING_KNOBS,
    channel: channel as unknown as FleetChannel,
    fleetStore: (url) => url.engine === "kv" ? denoKv(url) : redisStore(denoRedis(url)),
    unref: Deno.unrefTimer,
    // Requests arrive only once the entry serves what this returns, after `opening` below is set.
    upgrade: (request, connection) => upgrade(request, connection, opening),
  }, options);
  const opening: DenoOpening = { ...echo.opening, closedByDeno: false };
  const { handler } = echo;
  return {
    ...echo,
    fetch: (request, info) => handler(request, { remoteAddress: info.remoteAddr.hostname })!,
    closedByDeno() {
      opening.closedByDeno = true;
    },
  };
}

/**
 * The host's name without adding a permission: `HOSTNAME` when env access to it is granted (Echo's
 * documented commands grant all of the environment), else `Deno.hostname()` when `--allow-sys` (or
 * `--allow-sys=hostname`) is granted. Asked with `querySync`, which never prompts: a server has nobody
 * to answer a prompt.
 */
function hostname(): string | undefined {
  if (granted({ name: "env", variable: "HOSTNAME" })) {
    const fromEnv = Deno.env.get("HOSTNAME");
    if (fromEnv) return fromEnv;
  }
  return granted({ name: "sys", kind: "hostname" }) ? Deno.hostname() : undefined;
}

function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false; // a host without the permissions API
  }
}
