/**
 * JavaScript heap Echo keeps per connection, without sockets: the handler upgrades 5,000 requests
 * into sessions (with a do-nothing peer) and the heap is measured after a forced GC, so garbage from
 * the handshakes does not count. `deno run --v8-flags=--expose-gc bench/connection_heap.ts`.
 */
import { DEFAULTS } from "../lib/config.ts";
import { createContext } from "../lib/context.ts";
import { DENO_EXTENSIONS } from "../lib/deflate.ts";
import { createHandler } from "../lib/handler.ts";
import { createLogger } from "../lib/log.ts";
import { EchoSession, type Peer } from "../lib/session.ts";

const N = 5000;
const context = createContext({ ...DEFAULTS }, {
  runtime: "bench",
  logger: createLogger(() => {}, { format: "json", level: "error" }),
  extensions: DENO_EXTENSIONS,
});
const peer: Peer = { send: () => 0, bufferedAmount: () => 0, close: () => {} };
const sessions: EchoSession[] = [];
const handler = createHandler((_, connection) => {
  sessions.push(new EchoSession(peer, connection, context));
  return new Response(null, { status: 204 });
}, context);

function upgradeRequest(): Request {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  return new Request("http://127.0.0.1:8181/", {
    headers: {
      host: "127.0.0.1:8181",
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-version": "13",
      "sec-websocket-key": key,
    },
  });
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
for (let i = 0; i < 200; i++) handler(upgradeRequest(), { remoteAddress: "127.0.0.1" });
gc();
const before = Deno.memoryUsage().heapUsed;
for (let i = 0; i < N; i++) handler(upgradeRequest(), { remoteAddress: "127.0.0.1" });
gc();
const after = Deno.memoryUsage().heapUsed;
console.log(
  `${Math.round((after - before) / N)} bytes of JavaScript heap per connection (${sessions.length} sessions)`,
);
