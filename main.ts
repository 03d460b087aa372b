/**
 * Echo's Deno entry for `deno run --allow-net --allow-env main.ts`: reads flags and environment, then
 * serves on `Deno.serve` (`deno/server.ts`). `deno serve` has its own entry, `serve.ts`.
 *
 * @module
 */
import { runHealthcheck } from "./deno/healthcheck.ts";
import { serve } from "./deno/server.ts";
import { readSettings } from "./deno/settings.ts";
import { isHealthcheck } from "./lib/server/healthcheck.ts";
import type { ServeOptions } from "./lib/server/start.ts";

/** The command line `--help` and error lines name. */
const PROGRAM = "deno run --allow-net --allow-env main.ts";

/** Reads flags and environment, then serves; exits 2 on a bad option. */
export function start(options: ServeOptions = {}): void {
  serve(readSettings(PROGRAM, { listen: true }), options);
}

if (import.meta.main) {
  if (isHealthcheck(Deno.args)) runHealthcheck(PROGRAM, Deno.args.slice(1));
  else start();
}
