/**
 * Echo's Deno entry for `deno run --allow-net --allow-env main.ts`: reads flags and environment, then
 * serves on `Deno.serve`. `deno serve` has its own entry, `serve.ts`; both share `deno/echo.ts`.
 *
 * @module
 */
import { readSettings, runHealthcheck, serve } from "./deno/echo.ts";
import { isHealthcheck } from "./lib/healthcheck.ts";
import type { ServeOptions } from "./lib/session.ts";

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
