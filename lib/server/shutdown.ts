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
  /**
   * How many connections the runtime has reported closed but still holds open, their closing
   * handshakes unfinished: Bun reports a close Echo starts as done once its own close frame is out
   * (docs/design.md, "Shutdown"). The drain waits for these as for live sessions. Absent: none.
   */
  lingering?(): number;
  /** The clock, in milliseconds (tests give their own). */
  now?(): number;
}

/** How often the drain asks the entry about connections the runtime still holds. */
export const LINGER_POLL_MS = 100;

/**
 * A signal that repeats the first one within this long is the same request delivered twice, not a second
 * one: Ctrl-C on `npm start` reaches Echo from the terminal and again from npm, which forwards its
 * signals to the script it runs.
 */
export const REPEATED_SIGNAL_MS = 500;

/** When each context's drain began. */
const draining = new WeakMap<Context, number>();

/**
 * Refuses new upgrades, sends every client close 1001 (never 1005), waits for the closing
 * handshakes up to SHUTDOWN_GRACE_SECONDS with the listener still open (`/readyz` answers 503
 * meanwhile), stops the listener and exits 0. A second signal, later than {@link REPEATED_SIGNAL_MS} after
 * the first, exits 0 at once.
 */
export async function shutDown(context: Context, options: ShutdownOptions): Promise<never> {
  const now = options.now?.() ?? Date.now();
  if (context.hub.draining) {
    // The same signal twice: the drain goes on (the first call exits).
    if (now - (draining.get(context) ?? -Infinity) < REPEATED_SIGNAL_MS) return new Promise(() => {});
    context.logger.flush();
    return options.exit(0); // a second signal: stop waiting
  }
  context.hub.draining = true;
  draining.set(context, now);
  const live = context.hub.sessions.length;
  context.logger.log("info", "shutdown", { live, graceSeconds: context.config.shutdownGraceSeconds });
  const deadline = Date.now() + context.config.shutdownGraceSeconds * 1000;
  context.hub.closeAll(CLOSE.GOING_AWAY, "server shutting down");
  let clean = await context.hub.whenEmpty(context.config.shutdownGraceSeconds * 1000);
  if (clean && options.lingering) clean = await settled(options.lingering, deadline);
  const lingering = options.lingering?.() ?? 0;
  context.logger.log(clean ? "info" : "warn", "shutdown complete", {
    left: context.hub.sessions.length + lingering,
    // What /metrics' echo_closes_total would say, now that the listener is about to go.
    closes: context.registry.closesByCode(),
  });
  await Promise.race([options.stopListening(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  // The other members stop waiting for this one's answers at once rather than after a heartbeat.
  for (const source of context.fleet) source.close();
  context.logger.flush();
  return options.exit(0);
}

/** Resolves `true` once `lingering()` is 0, or `false` at `deadline` (a `Date.now()` time). */
async function settled(lingering: () => number, deadline: number): Promise<boolean> {
  for (;;) {
    if (lingering() === 0) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(LINGER_POLL_MS, left)));
  }
}
