/**
 * Echo's Bun entry: `bun run bun/server.ts` (and the single executable `npm run build` makes). Reads
 * flags and environment, then serves in this thread with a drain on SIGTERM/SIGINT, or starts the
 * worker threads of `--workers`.
 *
 * @module
 */
import type { Server } from "bun";
import type { Settings } from "../lib/server/cli.ts";
import { isHealthcheck } from "../lib/server/healthcheck.ts";
import type { ServeOptions } from "../lib/server/start.ts";
import { drain, listen } from "./echo.ts";
import { runHealthcheck } from "./healthcheck.ts";
import { failureLine, readSettings } from "./settings.ts";
import type { BunSocket } from "./socket.ts";
import { startWorkers } from "./workers.ts";

/** Starts Echo alone in this process, draining on SIGTERM/SIGINT. */
export function serve(settings: Settings, options: ServeOptions = {}): Server<BunSocket> {
  let listening;
  try {
    listening = listen(settings, options);
  } catch (error) {
    console.error(failureLine(error, settings));
    process.exit(2);
  }
  const stop = () => drain(listening);
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, stop);
  return listening.server;
}

/** Reads flags and environment, then serves or starts the worker threads; exits 2 on a bad option. */
export function start(options: ServeOptions = {}): Server<BunSocket> | undefined {
  const args = Bun.argv.slice(2);
  if (isHealthcheck(args)) {
    void runHealthcheck(args.slice(1));
    return undefined;
  }
  const settings = readSettings(args);
  if (settings.config.workers === 1) return serve(settings, options);
  startWorkers(settings);
  return undefined;
}

// Bun.isMainThread too: in a compiled binary a worker's own entry may see import.meta.main as true.
if (import.meta.main && Bun.isMainThread) start();
