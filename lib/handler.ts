/**
 * The runtime-neutral, fetch-style entry point: validates upgrades, captures the connection's
 * facts, and hands the upgrade to the runtime; everything else goes to the plain HTTP routes.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { captureConnection, type Connection } from "./connection.ts";
import type { ExtensionPolicy } from "./deflate.ts";
import { checkHandshake, isWebSocketUpgrade } from "./handshake.ts";
import type { Registry } from "./registry.ts";
import { route } from "./routes.ts";

/**
 * Performs the runtime's native upgrade. Returns the 101 response (Deno) or `undefined` when
 * the runtime answers itself (Bun). It must not throw after the runtime has taken the request.
 */
export type Upgrade = (request: Request, connection: Connection) => Response | undefined;

/** What the runtime knows about the client that a `Request` does not carry. */
export interface Client {
  remoteAddress: string;
}

/** Shared state and facts for the handler. */
export interface HandlerOptions {
  registry: Registry;
  /** Runtime name and version, e.g. `Bun 1.4.5`. */
  runtime: string;
  /** The configuration in effect (with the port actually bound), for `/info`. */
  config: Readonly<Config>;
  /** What the runtime answers to `Sec-WebSocket-Extensions`. */
  extensions: ExtensionPolicy;
}

/** A fetch-style handler; `undefined` means the runtime has already answered (Bun's upgrade). */
export type Handler = (request: Request, client: Client) => Response | Promise<Response> | undefined;

/** Builds the handler both entries serve. */
export function createHandler(upgrade: Upgrade, options: HandlerOptions): Handler {
  return (request, client) => {
    let connection: Connection;
    try {
      if (!isWebSocketUpgrade(request)) return route(request, options);
      const handshake = checkHandshake(request);
      if (!handshake.ok) return handshake.response;
      connection = captureConnection(request, {
        id: options.registry.nextId(),
        remoteAddress: client.remoteAddress,
        protocol: handshake.protocol,
        extensions: options.extensions.negotiate(request.headers.get("sec-websocket-extensions")),
      });
    } catch (error) {
      return internalError(error);
    }
    return upgrade(request, connection);
  };
}

/** The answer to a request whose handling failed: logged here, never detailed to the client. */
export function internalError(error: unknown): Response {
  console.error("echo: request failed:", error);
  return new Response("Internal server error\n", {
    status: 500,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}
