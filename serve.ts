/**
 * Echo for `deno serve`: `deno serve --parallel --allow-net --allow-env serve.ts`.
 *
 * A separate entry because `deno serve` evaluates its module with `import.meta.main` true and
 * Deno offers no way to tell it from `deno run` (denoland/deno#25179, #29447): one file that
 * both calls `Deno.serve` and exports `fetch` would listen twice under `deno serve`, and under
 * `deno run` would print "did you mean to run deno serve?". Here `main.ts` is only imported,
 * so its `import.meta.main` is false and it starts nothing.
 *
 * `deno serve` owns the listener: the address comes from its `--port`/`--host` flags (or
 * DENO_SERVE_ADDRESS), one listener per isolate with `--parallel`. Each isolate has its own
 * registry, so /info and /metrics describe the isolate that answered.
 *
 * @module
 */
import { createEcho, readSettings } from "./main.ts";

const settings = readSettings("deno serve --parallel --allow-net --allow-env serve.ts");
const echo = createEcho(settings);
const ignored = ["PORT", "HOST"].filter((name) => Deno.env.get(name));
if (ignored.length > 0) {
  echo.context.logger.log("warn", "ignored under deno serve", {
    options: ignored.join(","),
    use: "deno serve --port/--host or DENO_SERVE_ADDRESS=tcp:HOST:PORT",
  });
}

export default {
  fetch: (request, info) => echo.fetch(request, info as Deno.ServeHandlerInfo<Deno.NetAddr>),
  onListen: (address) => echo.onListen(address as Deno.NetAddr),
} satisfies Deno.ServeDefaultExport;
