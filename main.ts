/**
 * Echo's Deno entry: `deno run --allow-net --allow-env main.ts`.
 * The only file that talks to Deno; the behaviour lives in `lib/`.
 *
 * @module
 */
import { listeningLine, loadConfig } from "./lib/cli.ts";
import type { Config } from "./lib/config.ts";
import type { Connection } from "./lib/connection.ts";
import { DENO_EXTENSIONS } from "./lib/deflate.ts";
import { createHandler, internalError } from "./lib/handler.ts";
import { Registry } from "./lib/registry.ts";
import { EchoSession, type Peer } from "./lib/session.ts";

/** Lets a caller (a test fixture, an embedding program) share or observe the registry. */
export interface ServeOptions {
  registry?: Registry;
}

/** Starts Echo on Deno's native HTTP server and WebSocket. */
export function serve(config: Config, options: ServeOptions = {}): Deno.HttpServer<Deno.NetAddr> {
  const registry = options.registry ?? new Registry();
  const runtime = `Deno ${Deno.version.deno}`;
  const effective = { ...config };
  const handler = createHandler(upgrade, {
    registry,
    runtime,
    config: effective,
    extensions: DENO_EXTENSIONS,
  });

  function upgrade(request: Request, connection: Connection): Response {
    const { socket, response } = Deno.upgradeWebSocket(request);
    // Deno matches the offered protocols only when separated by ", " exactly, so the choice
    // made in lib/ is written onto the 101 here instead of being passed to upgradeWebSocket.
    if (connection.protocol) response.headers.set("sec-websocket-protocol", connection.protocol);
    socket.binaryType = "arraybuffer";
    let session: EchoSession | undefined;
    socket.onopen = () => {
      session = new EchoSession(denoPeer(socket), connection, { registry });
    };
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      session?.receive(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
    };
    socket.onclose = (event) => session?.closed(event.code, event.reason, { clean: event.wasClean });
    return response;
  }

  return Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: (address) => {
      effective.port = address.port;
      console.log(listeningLine(address, runtime));
    },
    onError: internalError,
  }, (request, info) => handler(request, { remoteAddress: info.remoteAddr.hostname })!);
}

function denoPeer(socket: WebSocket): Peer {
  return {
    // Deno's WebSocket does not implement permessage-deflate, so `compress` has nothing to ask.
    send: (message) => socket.send(message),
    close: (code, reason) => socket.close(code, reason),
  };
}

if (import.meta.main) {
  const config = loadConfig(Deno.args, {
    env: Deno.env.toObject(),
    program: "deno run --allow-net --allow-env main.ts",
    exit: Deno.exit,
  });
  serve(config);
}
