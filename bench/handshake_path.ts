/**
 * What Echo's own per-handshake work costs, without sockets: the handler's checks and capture of an
 * upgrade request, the session's open and close, with logs formatted at `info` (written nowhere), or
 * with `--log-level warn`. `deno run bench/handshake_path.ts` or `bun run bench/handshake_path.ts`.
 */
import { DEFAULTS, type LogLevel } from "../lib/config.ts";
import type { Connection } from "../lib/connection.ts";
import { createContext } from "../lib/context.ts";
import { DENO_EXTENSIONS } from "../lib/deflate.ts";
import { createHandler } from "../lib/handler.ts";
import { createLogger } from "../lib/log.ts";
import { EchoSession, type Peer } from "../lib/session.ts";

const args = typeof Deno === "object" ? Deno.args : process.argv.slice(2);
const level = (args.includes("--log-level") ? args[args.indexOf("--log-level") + 1] : "info") as LogLevel;
const ROUNDS = 7;
const N = 50_000;

let written = 0;
const context = createContext({ ...DEFAULTS }, {
  runtime: "bench",
  logger: createLogger((line) => written += line.length, { format: "json", level }),
  extensions: DENO_EXTENSIONS,
});
const peer: Peer = { send: () => 0, bufferedAmount: () => 0, close: () => {} };
let captured: Connection | undefined;
const handler = createHandler((_, connection) => {
  captured = connection;
  return undefined;
}, context);

// Distinct requests, as a server receives them (Chrome's headers).
const requests = Array.from({ length: 1024 }, (_, i) =>
  new Request(`http://127.0.0.1:8181/`, {
    headers: {
      host: "127.0.0.1:8181",
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": btoa(String(i).padStart(16, "k")),
      "sec-websocket-extensions": "permessage-deflate; client_max_window_bits",
      "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36",
      origin: "http://127.0.0.1:8181",
    },
  }));

function handshake(request: Request): void {
  handler(request, { remoteAddress: "127.0.0.1" });
  const session = new EchoSession(peer, captured!, context);
  session.closed(1000, "", { clean: true });
}

const results: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const start = performance.now();
  for (let i = 0; i < N; i++) handshake(requests[i & 1023]);
  results.push(((performance.now() - start) * 1e3) / N);
}
results.sort((a, b) => a - b);
const runtime = typeof Deno === "object" ? "Deno" : "Bun";
console.log(
  `${runtime}, LOG_LEVEL=${level}: ${
    results[ROUNDS >> 1].toFixed(2)
  } µs per handshake (median of ${ROUNDS}; ` +
    `best ${results[0].toFixed(2)}); ${(written / ROUNDS / N).toFixed(0)} log bytes per handshake`,
);
