/**
 * Echo's server on Deno for `deno run` (`main.ts`): `Deno.serve` on the configured address, listening
 * again when the listener fails, and the drain on SIGTERM/SIGINT.
 *
 * @module
 */
import type { Settings } from "../lib/server/cli.ts";
import { internalError } from "../lib/server/handler.ts";
import type { ServeOptions } from "../lib/server/start.ts";
import { describeError } from "../lib/log.ts";
import { createEcho } from "./echo.ts";

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
  listen(echo.announce);

  const stop = () =>
    echo.drain({
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
