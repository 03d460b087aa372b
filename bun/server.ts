/**
 * Echo's Bun entry: `bun run bun/server.ts`.
 * The only place that talks to Bun; the behaviour lives in `lib/`.
 *
 * @module
 */
import type { Server, ServerWebSocket } from "bun";
import { listeningLine, loadConfig } from "../lib/cli.ts";
import type { Config } from "../lib/config.ts";
import type { Connection } from "../lib/connection.ts";
import { bunExtensions, type DeflateMode } from "../lib/deflate.ts";
import { createHandler, internalError } from "../lib/handler.ts";
import { Registry } from "../lib/registry.ts";
import { EchoSession, type Peer } from "../lib/session.ts";

/** Lets a caller (a test fixture, an embedding program) share or observe the registry. */
export interface ServeOptions {
  registry?: Registry;
}

interface SocketData {
  connection: Connection;
  session?: EchoSession;
}

/** Starts Echo on `Bun.serve` with its native WebSocket handler. */
export function serve(config: Config, options: ServeOptions = {}): Server<SocketData> {
  const registry = options.registry ?? new Registry();
  const runtime = `Bun ${Bun.version}`;
  const effective = { ...config };
  const handler = createHandler((request, connection) => {
    const headers = connection.protocol ? { "sec-websocket-protocol": connection.protocol } : undefined;
    if (server.upgrade(request, { data: { connection }, headers })) return undefined;
    return new Response("The runtime refused this WebSocket upgrade\n", { status: 400 });
  }, { registry, runtime, config: effective, extensions: bunExtensions(config.deflate) });

  const server: Server<SocketData> = Bun.serve<SocketData>({
    hostname: config.host,
    port: config.port,
    fetch: (request, server) => handler(request, { remoteAddress: server.requestIP(request)?.address ?? "" }),
    error: internalError,
    websocket: {
      // Bun negotiates permessage-deflate itself (lib/deflate.ts predicts its answer for /info);
      // each echo asks for compression by lib's rule.
      perMessageDeflate: COMPRESSORS[config.deflate],
      open(ws) {
        ws.data.session = new EchoSession(bunPeer(ws), ws.data.connection, { registry });
      },
      message(ws, message) {
        ws.data.session?.receive(message);
      },
      close(ws, code, reason) {
        ws.data.session?.closed(code, reason, { clean: code !== 1006 });
      },
    },
  });
  effective.port = server.port ?? config.port;
  console.log(listeningLine({ hostname: server.hostname ?? config.host, port: server.port ?? config.port }, runtime));
  return server;
}

const COMPRESSORS: Record<DeflateMode, boolean | { compress: "dedicated"; decompress: "dedicated" }> = {
  shared: true,
  dedicated: { compress: "dedicated", decompress: "dedicated" },
  off: false,
};

function bunPeer(ws: ServerWebSocket<SocketData>): Peer {
  return {
    send: (message, { compress }) => ws.send(message, compress),
    close: (code, reason) => ws.close(code, reason),
  };
}

if (import.meta.main) {
  const config = loadConfig(Bun.argv.slice(2), {
    env: process.env,
    program: "bun run bun/server.ts",
    exit: process.exit,
  });
  serve(config);
}
