/**
 * Echo's Deno entry for `deno serve` (one listener per isolate with `--parallel`):
 * `deno serve --parallel --allow-net --allow-env serve.ts`. Deno owns the listener, so this module
 * only exports the handler; `main.ts` is the entry for `deno run`. Both build on `deno/echo.ts`.
 *
 * @module
 */
import { createEcho } from "./deno/echo.ts";
import { followServeShutdown } from "./deno/server.ts";
import { readSettingsOnce } from "./deno/settings.ts";

const echo = createEcho(
  await readSettingsOnce("deno serve --parallel --allow-net --allow-env serve.ts", { listen: false }),
);

// Deno drains on SIGTERM/SIGINT itself; Echo follows, recording what Deno sends.
followServeShutdown(echo);

/**
 * `deno serve` owns the listener: its --port/--host (or DENO_SERVE_ADDRESS) decide the address. PORT or
 * HOST that says otherwise gets one warning, from the isolate that listens (`npm run start:parallel`
 * passes PORT on as --port, and gets none).
 */
function warnIgnored(address: Deno.NetAddr): void {
  const port = Deno.env.get("PORT");
  const host = Deno.env.get("HOST");
  const ignored = [
    ...(port && Number(port) !== address.port ? ["PORT"] : []),
    ...(host && host !== address.hostname ? ["HOST"] : []),
  ];
  if (ignored.length > 0) {
    echo.context.logger.log("warn", "ignored under deno serve", {
      options: ignored.join(","),
      use: "deno serve --port/--host or DENO_SERVE_ADDRESS=tcp:HOST:PORT",
    });
  }
}

export default {
  fetch: (request, info) => echo.fetch(request, info as Deno.ServeHandlerInfo<Deno.NetAddr>),
  onListen: (address) => {
    echo.announce(address as Deno.NetAddr);
    warnIgnored(address as Deno.NetAddr);
  },
} satisfies Deno.ServeDefaultExport;
