/**
 * What each server keeps per idle connection, as JavaScript heap after garbage collection and as
 * anonymous resident memory: `bun run bench/idle_heap.ts`. The bench's memory column is that resident
 * memory, which also counts handshake garbage not collected yet; this separates the two. Each server
 * (Echo and the bare echo on Bun and Deno) runs with a probe (`heap_probe_bun.ts`,
 * `heap_probe_deno.ts`) that prints the heap in use after a forced collection; the script opens and
 * closes 500 connections, takes the first reading, opens 5,000 idle ones, takes the second, and prints
 * the differences per connection.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type Entry, ROOT, startServer } from "../tests/support/server.ts";
import { connectIdle, residentBytes, warmUp } from "./load.ts";
import { askProbe } from "./probe.ts";

const CONNECTIONS = 5000;
/** As the bench waits (`bench/run.ts`): Bun returns the warm-up's freed pages ~1.25 s after it closes. */
const SETTLE_MS = 2500;
const BIN = `${ROOT}node_modules/.bin/`;
const DENO_PROBE = [`${BIN}deno`, "run", "-A", "--v8-flags=--expose-gc", "bench/heap_probe_deno.ts"];
const BUN_PROBE = [`${BIN}bun`, "--preload", "./bench/heap_probe_bun.ts"];

const SERVERS: Array<{ name: string; runtime: Entry["name"]; command: string[]; env?: Record<string, string> }> = [
  { name: "Echo on Bun", runtime: "bun", command: [...BUN_PROBE, "bun/server.ts"] },
  { name: "bare Bun", runtime: "bun", command: [...BUN_PROBE, "bench/bare_bun.ts"] },
  { name: "Echo on Deno", runtime: "deno", command: DENO_PROBE, env: { HEAP_PROBE_SCRIPT: "main.ts" } },
  { name: "bare Deno", runtime: "deno", command: DENO_PROBE, env: { HEAP_PROBE_SCRIPT: "bench/bare_deno.ts" } },
];

console.log(`| server | heap bytes kept per idle connection | anonymous RSS bytes per idle connection |`);
console.log(`| --- | ---: | ---: |`);
for (const server of SERVERS) {
  const entry: Entry = { name: server.runtime, command: () => server.command };
  const running = await startServer(entry, { env: { ...server.env } });
  const probed = { output: running.output, pid: running.process.pid! };
  try {
    const target = { port: running.port, deflate: false };
    await warmUp(target, 500);
    await sleep(SETTLE_MS);
    const heapBefore = await askProbe(probed, "SIGUSR2", "HEAP");
    const anonBefore = residentBytes(probed.pid).anon;
    const conns = await connectIdle(target, CONNECTIONS);
    await sleep(SETTLE_MS);
    const heapAfter = await askProbe(probed, "SIGUSR2", "HEAP");
    const anonAfter = residentBytes(probed.pid).anon;
    const per = (before: number, after: number) => Math.round((after - before) / CONNECTIONS).toLocaleString("en");
    console.log(`| ${server.name} | ${per(heapBefore, heapAfter)} | ${per(anonBefore, anonAfter)} |`);
    await Promise.all(conns.map((conn) => conn.end()));
  } finally {
    await running.stop();
  }
}
