/**
 * The benchmark: `npm run bench` (`npm run bench:quick` for a smoke run).
 *
 * Starts each server alone on loopback, drives it with the load generator in `load.ts`, and
 * repeats the whole round several times, rotating the order, so that every figure is a median
 * and every ratio compares servers measured in the same round. Prints one markdown table and
 * writes `bench/results.json` and `bench/results.svg` (`bench/results.partial.*`, not kept in git,
 * for `--quick` or `--only`).
 *
 * Options: `--quick`, `--runs N`, `--only NAME` (a substring of a server's name).
 */
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { ENTRIES, type Entry, ROOT, startServer } from "../tests/support/server.ts";
import { chart } from "./chart.ts";
import { COLUMNS, type Figures, percent, type Row, summarise, table } from "./report.ts";
import { handshakes, idleMemory, latency, messageRate, pseudoRandom } from "./load.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const option = (name: string) => args.includes(name) ? args[args.indexOf(name) + 1] : undefined;
const runs = Number(option("--runs") ?? (quick ? 1 : 3));

const timing = quick ? { warmupMs: 150, measureMs: 400 } : { warmupMs: 500, measureMs: 2500 };
const IDLE_CONNECTIONS = quick ? 500 : 5000;
const PARAMS = {
  text: { connections: 50, inflight: 16, message: "x".repeat(32) },
  latency: { message: "y".repeat(32) },
  kib64: { connections: 4, inflight: 4, message: pseudoRandom(64 * 1024) },
  mib1: { connections: 2, inflight: 2, message: pseudoRandom(1024 * 1024) },
  handshakes: { parallel: 16 },
  idle: { connections: IDLE_CONNECTIONS, settleMs: quick ? 300 : 1000 },
};

const BIN = `${ROOT}node_modules/.bin/`;
const entry = (name: Entry["name"], command: string[]): Entry => ({ name, command: () => command });
const deno = ENTRIES.find((e) => e.name === "deno")!;
const bun = ENTRIES.find((e) => e.name === "bun")!;

/** The servers, each measured without and (where the runtime offers it) with permessage-deflate. */
const SERVERS: Array<{ name: string; entry: Entry; deflate: boolean }> = [
  { name: "Echo on Bun", entry: bun, deflate: false },
  { name: "bare Bun", entry: entry("bun", [`${BIN}bun`, "run", "bench/bare_bun.ts"]), deflate: false },
  { name: "Echo on Bun + deflate", entry: bun, deflate: true },
  { name: "bare Bun + deflate", entry: entry("bun", [`${BIN}bun`, "run", "bench/bare_bun.ts"]), deflate: true },
  { name: "Echo on Deno", entry: deno, deflate: false },
  { name: "bare Deno", entry: entry("deno", [`${BIN}deno`, "run", "--allow-net", "bench/bare_deno.ts"]), deflate: false },
  { name: "Node ws", entry: entry("node", ["node", "bench/ws_echo.mjs"]), deflate: false },
].filter((server) => !option("--only") || server.name.includes(option("--only")!));


async function measure(server: (typeof SERVERS)[number]): Promise<Figures> {
  const running = await startServer(server.entry);
  const pid = running.process.pid!;
  const target = { port: running.port, deflate: server.deflate };
  try {
    // Memory first, while the process has served nothing but the warm-up connections.
    const idle = await idleMemory(target, pid, PARAMS.idle);
    const text = await messageRate(target, pid, { ...timing, ...PARAMS.text });
    if (text.deflate !== server.deflate) throw new Error(`${server.name}: deflate negotiated = ${text.deflate}`);
    const rtt = await latency(target, { ...timing, ...PARAMS.latency });
    const kib64 = await messageRate(target, pid, { ...timing, ...PARAMS.kib64 });
    const mib1 = await messageRate(target, pid, { ...timing, ...PARAMS.mib1 });
    const shakes = await handshakes(target, pid, { ...timing, ...PARAMS.handshakes });
    return {
      text: text.messagesPerSecond,
      textPerCpu: text.messagesPerSecond / text.cpu.server,
      p50: rtt.p50,
      p99: rtt.p99,
      kib64: kib64.messagesPerSecond * 64 / 1024,
      mib1: mib1.messagesPerSecond,
      handshakes: shakes.perSecond,
      idleBytes: idle.perConnection,
      cpu: { text: text.cpu, kib64: kib64.cpu, mib1: mib1.cpu, handshakes: shakes.cpu },
    };
  } catch (error) {
    const exited = running.process.exitCode ?? running.process.signalCode;
    throw new Error(
      `${server.name}${exited === null ? "" : ` exited (${exited})`}: ${error}\n` +
        `--- server output (last 4000 characters) ---\n${running.output().slice(-4000)}`,
    );
  } finally {
    await running.stop();
  }
}

const rows: Row[] = SERVERS.map((server) => ({ name: server.name, runs: [], failures: [] }));
const started = Date.now();
for (let run = 0; run < runs; run++) {
  for (let k = 0; k < SERVERS.length; k++) {
    const index = (k + run) % SERVERS.length;
    let figures: Figures;
    try {
      figures = await measure(SERVERS[index]);
    } catch (error) {
      // One failed round is a finding, not a reason to lose the others; it is shown and kept.
      console.error(`run ${run + 1}/${runs} ${SERVERS[index].name} FAILED: ${(error as Error).message}`);
      rows[index].runs.push(null);
      rows[index].failures.push(`round ${run + 1}: ${(error as Error).message}`);
      continue;
    }
    rows[index].runs.push(figures);
    const cpu = Object.entries(figures.cpu).map(([k, v]) => `${k} ${percent(v.client)}/${percent(v.server)}`);
    console.error(
      `run ${run + 1}/${runs} ${SERVERS[index].name}: ${COLUMNS.map((c) => c.format(c.get(figures))).join(" ")}` +
        ` | cpu client/server ${cpu.join(", ")}`,
    );
  }
}

const command = `npm run bench${quick ? ":quick" : ""}${option("--runs") ? ` -- --runs ${runs}` : ""}`;
const summary = summarise(rows);
const meta = {
  command,
  date: new Date().toISOString(),
  seconds: Math.round((Date.now() - started) / 1000),
  runs,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  loadavg: loadavg(),
  versions: { bun: Bun.version, node: process.versions.node },
  params: { ...PARAMS, kib64: { ...PARAMS.kib64, message: "64 KiB pseudo-random" }, mib1: { ...PARAMS.mib1, message: "1 MiB pseudo-random" }, timing },
};
console.log(table(summary, meta));
for (const row of rows) for (const failure of row.failures) console.log(`- ${row.name} failed ${failure.split("\n")[0]}`);
// A smoke or partial run must not overwrite the figures the README shows.
const output = `${ROOT}bench/results${quick || option("--only") ? ".partial" : ""}`;
writeFileSync(`${output}.json`, JSON.stringify({ meta, rows, summary }, null, 2) + "\n");
writeFileSync(`${output}.svg`, chart(summary, meta));
