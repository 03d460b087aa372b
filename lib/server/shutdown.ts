/**
 * The graceful shutdown every entry runs on SIGTERM/SIGINT: refuse new upgrades, close every client
 * with 1001, wait for the closing handshakes, stop the listener, exit 0 ([docs/deploy.md](../../docs/deploy.md)).
 *
 * @module
 */
import type { Context } from "../context.ts";
import { CLOSE } from "../session.ts";

/** What graceful shutdown needs from the entry. */
export interface ShutdownOptions {
  /** Stops accepting connections; may resolve once the runtime's listener is closed. */
  stopListening(): Promise<void> | void;
  exit(code: number): never;
}

/**
 * Refuses new upgrades, sends every client close 1001 (never 1005), waits for the closing
 * handshakes up to SHUTDOWN_GRACE_SECONDS, stops the listener and exits 0.
 */
export async function shutDown(context: Context, options: ShutdownOptions): Promise<never> {
  if (context.hub.draining) {
    context.logger.flush();
    return options.exit(0); // a second signal: stop waiting
  }
  context.hub.draining = true;
  const live = context.hub.sessions.length;
  context.logger.log("info", "shutdown", { live, graceSeconds: context.config.shutdownGraceSeconds });
  context.hub.closeAll(CLOSE.GOING_AWAY, "server shutting down");
  const clean = await context.hub.whenEmpty(context.config.shutdownGraceSeconds * 1000);
  context.logger.log(clean ? "info" : "warn", "shutdown complete", { left: context.hub.sessions.length });
  await Promise.race([options.stopListening(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  // The other members stop waiting for this one's answers at once rather than after a heartbeat.
  for (const source of context.fleet) source.close();
  context.logger.flush();
  return options.exit(0);
}
