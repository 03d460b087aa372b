/**
 * What Echo's own per-message work costs, without sockets: `EchoSession.receive` with a peer
 * whose `send` does nothing, against calling that `send` directly (the bare echo's work).
 * `deno run bench/hot_path.ts` or `bun run bench/hot_path.ts`.
 */
import { DEFAULTS } from "../lib/config.ts";
import { captureConnection } from "../lib/connection.ts";
import { createContext } from "../lib/context.ts";
import { DENO_EXTENSIONS } from "../lib/deflate.ts";
import { createLogger } from "../lib/log.ts";
import { EchoSession, type Message, type Peer } from "../lib/session.ts";

const ROUNDS = 5;
const N = 2_000_000;
/** Distinct messages, as a server receives them: engines cache some work per string. */
const POOL = 1024;

let sink = 0;
// Reports a size it already knows, as Bun's send does (Deno's entry sizes text with lib/utf8.ts).
const peer: Peer = {
  send: (message, compress) => {
    sink += (compress ? 1 : 0) + (typeof message === "string" ? 1 : 2);
    return typeof message === "string" ? message.length : message.byteLength;
  },
  bufferedAmount: () => 0,
  close: () => {},
};

function time(label: string, pool: Message[], run: (message: Message) => void): void {
  const results: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < N; i++) run(pool[i & (POOL - 1)]);
    results.push(((performance.now() - start) * 1e6) / N);
  }
  results.sort((a, b) => a - b);
  console.log(`| ${label} | ${results[ROUNDS >> 1].toFixed(1)} | ${results[0].toFixed(1)} |`);
}

const context = createContext({ ...DEFAULTS }, {
  runtime: "bench",
  logger: createLogger(() => {}, { format: "json", level: "error" }),
  extensions: DENO_EXTENSIONS,
});
const registry = context.registry;
const request = new Request("http://127.0.0.1/", {
  headers: { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" },
});
const connection = captureConnection(request, {
  id: registry.nextId(),
  remoteAddress: "127.0.0.1",
  protocol: "",
  extensions: "",
});
const session = new EchoSession(peer, connection, context);
const decoded = (text: string) => new TextDecoder().decode(new TextEncoder().encode(text));
const pool = (make: (i: number) => Message) => Array.from({ length: POOL }, (_, i) => make(i));
const messages: Array<[string, Message[]]> = [
  ["32 B text", pool((i) => decoded(i.toString(36).padEnd(32, "x")))],
  ["32 B text, non-ASCII", pool((i) => decoded(i.toString(36).padEnd(16, "é")))],
  ["64 KiB binary", pool(() => new Uint8Array(64 * 1024))],
];

console.log(`| per message (${typeof Deno === "object" ? "Deno" : "Bun"}) | ns median | ns best |`);
console.log("| --- | ---: | ---: |");
for (const [label, pool] of messages) {
  time(`${label}: peer.send only`, pool, (m) => peer.send(m, false));
  time(`${label}: EchoSession.receive`, pool, (m) => session.receive(m));
}
if (sink === 42) console.log("");
