/**
 * The runtime-neutral, fetch-style entry point: validates upgrades, captures the connection's
 * facts, and hands the upgrade to the runtime; everything else goes to the plain HTTP routes.
 *
 * @module
 */
import { admission } from "../admission.ts";
import { clientAddress } from "../client_address.ts";
import { captureConnection, type Connection } from "../connection.ts";
import type { Context } from "../context.ts";
import { checkHandshake, isWebSocketUpgrade, type RefusedHandshake } from "../handshake.ts";
import { checkKnobs } from "../knobs.ts";
import { describeError } from "../log.ts";
import { route } from "../http/routes.ts";
import { requestTarget } from "../target.ts";

/**
 * Performs the runtime's native upgrade. Returns the 101 response (Deno) or `undefined` when
 * the runtime answers itself (Bun). It must not throw after the runtime has taken the request.
 */
export type Upgrade = (request: Request, connection: Connection) => Response | undefined;

/** What the runtime knows about the client that a `Request` does not carry. */
export interface Client {
  remoteAddress: string;
}

/** A fetch-style handler; `undefined` means the runtime has already answered (Bun's upgrade). */
export type Handler = (request: Request, client: Client) => Response | Promise<Response> | undefined;

/** Builds the handler both entries serve. */
export function createHandler(upgrade: Upgrade, context: Context): Handler {
  // Built once: every object an upgrade allocates and drops is garbage the next burst of them piles up.
  const knobOptions = { enabled: context.config.knobs === "on", unsupported: context.unsupportedKnobs };
  return (request, client) => {
    let connection: Connection;
    try {
      if (!isWebSocketUpgrade(request)) return route(request, context, client.remoteAddress);
      const remoteAddress = clientAddress(request.headers, client.remoteAddress, context.config.trustProxy);
      const handshake = checkHandshake(request, context.config);
      if (!handshake.ok) return refused(handshake, remoteAddress, context);
      const target = requestTarget(request.url);
      const asked = checkKnobs(target.query, knobOptions);
      if (!asked.ok) return refused(asked, remoteAddress, context);
      const busy = admission(context);
      if (busy) return refused(busy, remoteAddress, context);
      connection = captureConnection(request, {
        id: context.registry.nextId(),
        target,
        remoteAddress,
        protocol: asked.knobs.protocol ?? handshake.protocol,
        knobs: asked.knobs,
        extensions: context.extensions.negotiate(handshake.request.extensions),
        request: handshake.request,
      });
    } catch (error) {
      return internalError(error, context);
    }
    return upgrade(request, connection);
  };
}

function refused(handshake: RefusedHandshake, remoteAddress: string, context: Context): Response {
  context.registry.refusedHandshake(handshake.reason);
  context.logger.log("info", "refused", {
    status: handshake.response.status,
    reason: handshake.reason,
    remote: remoteAddress,
  });
  return handshake.response;
}

/** The answer to a request whose handling failed: logged, never detailed to the client. */
export function internalError(error: unknown, context: Pick<Context, "logger">): Response {
  context.logger.log("error", "request failed", { error: describeError(error) });
  return new Response("Internal server error\n", {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
