/**
 * Whether the server takes one more long-lived connection: a WebSocket or an SSE stream. Both are
 * hub members, so MAX_CONNECTIONS counts them together and shutdown ends them together.
 *
 * @module
 */
import type { Context } from "./context.ts";
import { refuse, type RefusedHandshake } from "./handshake.ts";

/** Seconds a client refused for capacity or shutdown is asked to wait. */
export const RETRY_AFTER_SECONDS = 5;

const RETRY = { "retry-after": String(RETRY_AFTER_SECONDS) };

/** The 503 for a server that is draining or full, or `undefined` when there is room. */
export function admission(context: Pick<Context, "hub" | "config">): RefusedHandshake | undefined {
  if (context.hub.draining) return refuse(503, "shutting_down", "server is shutting down", RETRY);
  if (context.hub.sessions.length >= context.config.maxConnections) {
    return refuse(
      503,
      "capacity",
      `server is at its limit of ${context.config.maxConnections} connections`,
      RETRY,
    );
  }
  return undefined;
}
