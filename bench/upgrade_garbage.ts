/**
 * JavaScript heap a Bun server allocates per upgrade, garbage included: `bun run bench/upgrade_garbage.ts`.
 * The memory column of the bench reads resident memory 1 s after 5,000 connections opened, and that
 * holds what the server keeps per connection plus whatever of the handshakes' garbage the collector had
 * not yet reclaimed, so a server's allocation per upgrade bounds it from above. Each server (Echo and
 * the bare echo) runs with JavaScriptCore's collector held off (`BUN_JSC_forceRAMSize` sizes the heap
 * as if the machine had 200 GB; `BUN_JSC_logGC` shows that no collection ran) and a probe
 * (`heap_probe_bun.ts`); the script opens and closes 500 connections, reads the heap's capacity, opens
 * 450 idle ones, reads it again, and prints the growth per connection. 450, so that no upgrade in the
 * window is one after which Echo's Bun entry asks for a collection itself (every 1,000th).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT, startServer } from "../tests/support/server.ts";
import { UPGRADES_PER_COLLECTION } from "../bun/server.ts";
import { connectIdle, warmUp } from "./load.ts";
import { askProbe } from "./probe.ts";

const WARM_UP = 500;
const CONNECTIONS = 450;
if (WARM_UP + CONNECTIONS >= UPGRADES_PER_COLLECTION) throw new Error("Echo would collect inside the window");
const BUN = [`${ROOT}node_modules/.bin/bun`, "--preload", "./bench/heap_probe_bun.ts"];
const SERVERS = [
  { name: "Echo on Bun", script: "bun/server.ts" },
  { name: "bare Bun", script: "bench/bare_bun.ts" },
];
const HELD_OFF = { BUN_JSC_forceRAMSize: String(200e9), BUN_JSC_logGC: "1" };

console.log(
  `| server | heap bytes allocated per upgrade | collections during the ${
    CONNECTIONS.toLocaleString("en")
  } |`,
);
console.log(`| --- | ---: | ---: |`);
for (const server of SERVERS) {
  const running = await startServer({ name: "bun", command: () => [...BUN, server.script] }, {
    env: HELD_OFF,
  });
  try {
    const probed = { output: running.output, pid: running.process.pid! };
    const target = { port: running.port, deflate: false };
    await warmUp(target, WARM_UP);
    await sleep(500);
    const before = await askProbe(probed, "SIGUSR1", "CAPACITY");
    const mark = running.output().length;
    const conns = await connectIdle(target, CONNECTIONS);
    await sleep(200);
    const after = await askProbe(probed, "SIGUSR1", "CAPACITY");
    const collections = running.output().slice(mark).split("\n").filter((line) =>
      line.includes("START")
    ).length;
    const per = Math.round((after - before) / CONNECTIONS).toLocaleString("en");
    console.log(`| ${server.name} | ${per} | ${collections} |`);
    await Promise.all(conns.map((conn) => conn.end()));
  } finally {
    await running.stop();
  }
}
