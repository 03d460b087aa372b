/**
 * Echo's server on Deno. For `deno run` (`main.ts`): `Deno.serve` on the configured address, listening
 * again when the listener fails, and the drain on SIGTERM/SIGINT. For `deno serve` (`serve.ts`), where
 * Deno drains by itself: following that drain.
 *
 * @module
 */
import { type Settings, startupFailure } from "../lib/server/cli.ts";
import { internalError } from "../lib/server/handler.ts";
import type { ServeOptions } from "../lib/server/start.ts";
import { describeError } from "../lib/log.ts";
import { createEcho, type DenoEcho } from "./echo.ts";

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
  try {
    listen(echo.announce);
  } catch (error) {
    // The port in use, a low port, a foreign HOST, an unusable certificate: one line and exit 2.
    const line = startupFailure(error, config, tls !== undefined);
    if (line === undefined) throw error;
    console.error(line);
    Deno.exit(2);
  }

  const stop = () =>
    echo.drain({
      // A listener that failed has nothing left to stop. Deno closes the sockets still open itself.
      stopListening: () => {
        echo.closedByDeno();
        return server.shutdown().catch(() => {});
      },
      exit: Deno.exit,
    });
  for (const signal of SIGNALS) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch (error) {
      // Deno Deploy runs isolates without OS signals and may refuse the listener; the platform
      // drains and stops isolates itself there, so serving without a drain is the right outcome.
      context.logger.log("debug", "no signal listener", { signal, error: String(error) });
    }
  }
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/**
 * Under `deno serve`, which owns the process: Deno drains on SIGTERM/SIGINT by itself (it stops
 * listening, closes every WebSocket with `1001 "Server shutting down"` at once and exits 0 once they are
 * gone; denoland/deno#32862, #35105). Deno lets the module listen to the signals too and calls this
 * listener first (it was added first), so Echo follows that drain: it refuses upgrades, records the
 * sockets Deno closes with Deno's close frame, and logs `shutdown` and `shutdown complete` with the
 * closes by code. Echo cannot send its own close frame first: Deno's shutdown starts in the same turn,
 * and its frame reaches the socket before any `close()` made here.
 */
export function followServeShutdown(echo: DenoEcho): void {
  const { context } = echo;
  const begin = () => {
    // As Deno does with its own: a second signal then ends the process the default way.
    for (const signal of SIGNALS) Deno.removeSignalListener(signal, begin);
    echo.closedByDeno();
    context.hub.draining = true;
    context.logger.log("info", "shutdown", { live: context.hub.sessions.length, by: "deno serve" });
    void context.hub.whenEmpty(context.config.shutdownGraceSeconds * 1000).then((clean) => {
      context.logger.log(clean ? "info" : "warn", "shutdown complete", {
        left: context.hub.sessions.length,
        closes: context.registry.closesByCode(),
      });
      context.logger.flush();
    });
  };
  for (const signal of SIGNALS) {
    try {
      Deno.addSignalListener(signal, begin);
    } catch (error) {
      context.logger.log("debug", "no signal listener", { signal, error: String(error) });
    }
  }
}
