/**
 * The benchmark: `npm run bench` (`npm run bench:quick` for a smoke run). What it measures and why is
 * in docs/benchmarks.md.
 *
 * Measures each server as a user runs it: started fresh, alone on the machine's cores (nothing pinned),
 * and driven by the load generator in `load.ts`. Per server and run, on four fresh processes:
 * - sequential: on one process, one workload after the other (32-byte text, the same with one frame
 *   written per echo, latency, 64 KiB, 1 MiB, handshakes), each in consecutive rounds;
 * - sustained: 64 KiB for ~30 s in windows, so that a server that slows down with traffic or age shows;
 * - idle memory as `ps` reads it: `VmRSS` growth per idle connection, no forced collection;
 * - idle memory after a full collection (through the runtime's inspector) before each reading: what
 *   the connections themselves keep, `RssAnon`.
 * Prints a summary that fits a terminal (Echo ÷ bare per measure) and writes `bench/results.json` (every
 * sample) and `bench/results.svg` (`bench/results.partial.*`, not kept in git, for `--quick` or `--only`,
 * with the full markdown table as `bench/results.partial.md`).
 *
 * Options: `--quick`, `--runs N` (whole runs, default 1), `--only NAME` (a substring of a server's name),
 * `--rounds N` (rounds per sequential workload, default 3), `--sequential` (the sequential workloads only);
 * `--table FILE` prints the full markdown table of a results file (docs/benchmarks.md's) and runs nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ENTRIES, type Entry, ROOT, type RunningServer, startServer } from "../tests/support/server.ts";
import {
  drive,
  idleMemory,
  latency,
  type Measured,
  type MessageLoad,
  type MessageOptions,
  openHandshakes,
  openMessages,
  openPump,
  pseudoRandom,
  type Target,
} from "./load.ts";
import {
  chart,
  emptyRow,
  type Figures,
  type Row,
  spread,
  summarise,
  table,
  type TableMeta,
  terminalSummary,
} from "./report.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const option = (name: string) => args.includes(name) ? args[args.indexOf(name) + 1] : undefined;
const runs = Number(option("--runs") ?? 1);

if (option("--table")) {
  const results = JSON.parse(readFileSync(option("--table")!, "utf8"));
  console.log(table(results.summary, results.rows, results.meta));
  process.exit(0);
}

/** Each throughput workload: a warm-up, then consecutive rounds on the same connections. */
const ROUNDS = {
  warmupMs: quick ? 200 : 500,
  windowMs: quick ? 500 : 2500,
  windows: Number(option("--rounds") ?? (quick ? 1 : 3)),
};
/** Whether only the sequential workloads run (no sustained round, no idle memory). */
const sequentialOnly = args.includes("--sequential");
/** The sustained round: windows with no warm-up, the first seconds of a fresh process included. */
const SUSTAINED = { warmupMs: 0, windowMs: quick ? 500 : 3000, windows: quick ? 3 : 10 };
const LATENCY = { warmupMs: quick ? 100 : 200, measureMs: quick ? 300 : 2000, message: "y".repeat(32) };
const IDLE = { connections: quick ? 500 : 2000, settleMs: quick ? 300 : 2500 };
const PARAMS = {
  text: { connections: 50, inflight: 16, message: "x".repeat(32) },
  textPerEcho: { connections: 50, inflight: 16, message: "x".repeat(32) },
  kib64: { connections: 4, inflight: 4, message: pseudoRandom(64 * 1024) },
  mib1: { connections: 2, inflight: 2, message: pseudoRandom(1024 * 1024) },
  handshakes: { parallel: 16 },
};

const BIN = `${ROOT}node_modules/.bin/`;
const entry = (name: string, command: string[]): Entry => ({ name, command: () => command });
const deno = ENTRIES.find((e) => e.name === "deno")!;
const bun = ENTRIES.find((e) => e.name === "bun")!;
const bareBun = entry("bun", [`${BIN}bun`, "run", "bench/bare_bun.ts"]);

/** The servers; `sustained`: whether the sustained round runs on it (Echo and bare, plain). */
const SERVERS: Array<{ name: string; entry: Entry; deflate: boolean; sustained: boolean }> = [
  { name: "Echo on Bun", entry: bun, deflate: false, sustained: true },
  { name: "bare Bun", entry: bareBun, deflate: false, sustained: true },
  { name: "Echo on Bun + deflate", entry: bun, deflate: true, sustained: false },
  { name: "bare Bun + deflate", entry: bareBun, deflate: true, sustained: false },
  { name: "Echo on Deno", entry: deno, deflate: false, sustained: true },
  {
    name: "bare Deno",
    entry: entry("deno", [`${BIN}deno`, "run", "--allow-net", "bench/bare_deno.ts"]),
    deflate: false,
    sustained: true,
  },
  { name: "Node ws", entry: entry("node", ["node", "bench/ws_echo.mjs"]), deflate: false, sustained: false },
].filter((server) => !option("--only") || server.name.includes(option("--only")!));

type Server = (typeof SERVERS)[number];

const rows: Row[] = SERVERS.map((server) => emptyRow(server.name));
const rowOf = (server: Server) => rows[SERVERS.indexOf(server)];
const push = (row: Row, key: keyof Figures, values: number[]) => (row.figures[key] ??= []).push(...values);

/**
 * Where the measured servers' stdout goes: a pipe to this process would make the load generator read
 * Echo's log lines (two per handshake), work the bare echoes, which log nothing, do not give it.
 */
const serverLogs = mkdtempSync(join(tmpdir(), "echo-bench-"));

/** Runs `measure` on a fresh process of `server`; a failure is recorded, not a reason to stop the run. */
async function onFreshProcess(
  server: Server,
  what: string,
  measure: (running: RunningServer, target: Target) => Promise<void>,
  start: Entry = server.entry,
): Promise<void> {
  let running: RunningServer | undefined;
  try {
    running = await startServer(start, { stdoutFile: join(serverLogs, `${SERVERS.indexOf(server)}.log`) });
    await measure(running, { port: running.port, deflate: server.deflate });
  } catch (error) {
    const exited = running && (running.process.exitCode ?? running.process.signalCode);
    const message = `${what}: ${exited !== undefined && exited !== null ? `exited (${exited}): ` : ""}${
      (error as Error).message ?? error
    }\n--- server output (last 4000 characters) ---\n${running?.output().slice(-4000) ?? ""}`;
    console.error(`${server.name} FAILED ${message}`);
    rowOf(server).failures.push(message);
  } finally {
    await running?.stop();
  }
}

/** Drives one message load in rounds; returns the rounds, after checking the echoes and the deflate offer. */
async function messageRounds(
  server: Server,
  pid: number,
  target: Target,
  params: MessageOptions,
  open: (target: Target, params: MessageOptions) => Promise<MessageLoad> = openMessages,
) {
  const load = await open(target, params);
  let rounds: Measured[];
  try {
    rounds = await drive(load, pid, ROUNDS);
  } finally {
    const check = await load.end();
    if (check.deflate !== server.deflate) throw new Error(`deflate negotiated = ${check.deflate}`);
  }
  return rounds;
}

/** The workloads one after the other on one process, as a user's traffic changes over a process's life. */
function sequential(server: Server): Promise<void> {
  const row = rowOf(server);
  return onFreshProcess(server, "sequential", async (running, target) => {
    const pid = running.process.pid!;
    const text = await messageRounds(server, pid, target, PARAMS.text);
    push(row, "text", text.map((m) => m.perSecond));
    push(row, "textPerCpu", text.map((m) => m.perSecond / m.cpu.server));
    row.cpu.text.push(...text.map((m): [number, number] => [m.cpu.client, m.cpu.server]));
    if (!server.deflate) { // the pump offers no permessage-deflate
      const perEcho = await messageRounds(server, pid, target, PARAMS.textPerEcho, openPump);
      push(row, "textPerEcho", perEcho.map((m) => m.perSecond));
      push(row, "textPerEchoPerCpu", perEcho.map((m) => m.perSecond / m.cpu.server));
      (row.cpu.textPerEcho ??= []).push(...perEcho.map((m): [number, number] => [m.cpu.client, m.cpu.server]));
    }
    for (let k = 0; k < ROUNDS.windows; k++) {
      const rtt = await latency(target, LATENCY);
      push(row, "p50", [rtt.p50]);
      push(row, "p99", [rtt.p99]);
    }
    const kib64 = await messageRounds(server, pid, target, PARAMS.kib64);
    push(row, "kib64", kib64.map((m) => m.perSecond / 16));
    push(row, "kib64Rss", kib64.map((m) => m.rss / 2 ** 20));
    push(row, "kib64Anon", kib64.map((m) => m.anon / 2 ** 20));
    row.cpu.kib64.push(...kib64.map((m): [number, number] => [m.cpu.client, m.cpu.server]));
    const mib1 = await messageRounds(server, pid, target, PARAMS.mib1);
    push(row, "mib1", mib1.map((m) => m.perSecond));
    push(row, "mib1Rss", mib1.map((m) => m.rss / 2 ** 20));
    push(row, "mib1Anon", mib1.map((m) => m.anon / 2 ** 20));
    (row.cpu.mib1 ??= []).push(...mib1.map((m): [number, number] => [m.cpu.client, m.cpu.server]));
    const handshakes = await drive(openHandshakes(target, PARAMS.handshakes), pid, ROUNDS);
    push(row, "handshakes", handshakes.map((m) => m.perSecond));
    push(row, "handshakesPerCpu", handshakes.map((m) => m.perSecond / m.cpu.server));
    row.load.push(loadavg()[0]);
  });
}

/** 64 KiB for the sustained round's windows on a fresh process: the late windows against the early. */
function sustained(server: Server): Promise<void> {
  const row = rowOf(server);
  return onFreshProcess(server, "sustained", async (running, target) => {
    const load = await openMessages(target, PARAMS.kib64);
    const windows = await drive(load, running.process.pid!, SUSTAINED).finally(() => load.end());
    const rates = windows.map((m) => m.perSecond / 16);
    const third = Math.max(1, Math.floor(rates.length / 3));
    row.windows.push(rates);
    push(row, "sustained", rates);
    push(row, "aging", [spread(rates.slice(-third)).median / spread(rates.slice(0, third)).median]);
  });
}

/** Idle memory per connection on a fresh process, as it is resident (no forced collection). */
function idlePlain(server: Server): Promise<void> {
  return onFreshProcess(server, "idle memory", async (running, target) => {
    const memory = await idleMemory(target, running.process.pid!, IDLE);
    const row = rowOf(server);
    push(row, "idleRss", [memory.ownPerConnection / 1024]);
    push(row, "idleVmRss", [memory.rssPerConnection / 1024]);
    push(row, "codePagedIn", [memory.fileBytes / 2 ** 20]);
  });
}

/** The flag that opens a runtime's inspector on a free loopback port (Bun, Deno and Node alike). */
const INSPECT = "--inspect=127.0.0.1:0";

/** `entry` with its inspector open: the flag goes just before the script, where all three runtimes take it. */
function inspectable(entry: Entry): Entry {
  return {
    name: entry.name,
    command: (script, permissions) => {
      const command = entry.command(script, permissions);
      return [...command.slice(0, -1), INSPECT, command[command.length - 1]];
    },
  };
}

/**
 * Runs one full garbage collection in a server started from an {@link inspectable} entry, and resolves
 * once the runtime says it is done. Bun speaks WebKit's inspector protocol (`Heap.gc`), Deno and Node
 * Chrome's (`HeapProfiler.collectGarbage`); both collect everything unreachable before they answer.
 */
async function collectGarbage(server: RunningServer, runtime: string): Promise<void> {
  // Deno and Node print `ws://HOST:PORT/<uuid>`, Bun the same inside a banner.
  const address = /ws:\/\/[\d.:]+\/[\da-f-]{36}/.exec(server.output())?.[0];
  if (!address) throw new Error(`no inspector address in the server's output (started without ${INSPECT}?)`);
  const method = runtime === "bun" ? "Heap.gc" : "HeapProfiler.collectGarbage";
  const socket = new WebSocket(address);
  try {
    const reply = await new Promise<{ error?: { message: string } }>((resolve, reject) => {
      socket.onopen = () => socket.send(JSON.stringify({ id: 1, method }));
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data));
        if (message.id === 1) resolve(message);
      };
      socket.onerror = () => reject(new Error(`the inspector at ${address} failed`));
      socket.onclose = () => reject(new Error(`the inspector at ${address} closed before answering ${method}`));
    });
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
  } finally {
    socket.close();
  }
}

/**
 * Idle memory per connection after a full collection before each reading, on a fresh process with its
 * inspector open (only this one: an inspector session and its collections slow the throughput
 * workloads down). The anonymous part of RSS: what the connections keep, without the handshakes'
 * garbage or pages of the runtime's executable first run during the window.
 */
function idleCollected(server: Server): Promise<void> {
  return onFreshProcess(server, "idle memory after GC", async (running, target) => {
    const collect = () => collectGarbage(running, server.entry.name);
    const memory = await idleMemory(target, running.process.pid!, { ...IDLE, collect });
    push(rowOf(server), "idleAnonGc", [memory.anonPerConnection / 1024]);
  }, inspectable(server.entry));
}

const started = Date.now();
try {
  for (let run = 0; run < runs; run++) {
    // Echo and its baseline swap places from run to run, so that a drift of the machine favours neither.
    const order = run % 2 ? [...SERVERS].reverse() : SERVERS;
    for (const server of order) {
      await sequential(server);
      if (!sequentialOnly) {
        if (server.sustained) await sustained(server);
        await idlePlain(server);
        await idleCollected(server);
      }
      console.error(`run ${run + 1}/${runs} ${server.name} done (${Math.round((Date.now() - started) / 1000)} s)`);
    }
  }
} finally {
  rmSync(serverLogs, { recursive: true });
}

const passed = args.filter((arg) => arg !== "--quick");
const command = `npm run bench${quick ? ":quick" : ""}${passed.length > 0 ? ` -- ${passed.join(" ")}` : ""}`;
const summary = summarise(rows);
const tableMeta: TableMeta = {
  command,
  runs,
  cpus: cpus().length,
  rounds: ROUNDS.windows,
  roundMs: ROUNDS.windowMs,
  windows: SUSTAINED.windows,
  windowMs: SUSTAINED.windowMs,
  idleConnections: IDLE.connections,
};
const meta = {
  ...tableMeta,
  date: new Date().toISOString(),
  seconds: Math.round((Date.now() - started) / 1000),
  cpuModel: cpus()[0]?.model,
  loadavg: loadavg(),
  versions: { bun: Bun.version, node: process.versions.node },
  params: {
    ...PARAMS,
    kib64: { ...PARAMS.kib64, message: "64 KiB pseudo-random" },
    mib1: { ...PARAMS.mib1, message: "1 MiB pseudo-random" },
    rounds: ROUNDS,
    sustained: SUSTAINED,
    latency: LATENCY,
    idle: IDLE,
  },
};
// A smoke or partial run must not overwrite the figures the docs show.
const partial = quick || option("--only") !== undefined || sequentialOnly || option("--rounds") !== undefined;
const output = `bench/results${partial ? ".partial" : ""}`;
writeFileSync(`${ROOT}${output}.json`, JSON.stringify({ meta, rows, summary }, null, 2) + "\n");
writeFileSync(`${ROOT}${output}.svg`, chart(summary, meta));
if (partial) writeFileSync(`${ROOT}${output}.md`, table(summary, rows, tableMeta) + "\n");

/** Lines for a terminal of 120 columns. */
const WIDTH = 120;
const cut = (line: string) => line.length > WIDTH ? `${line.slice(0, WIDTH - 1)}…` : line;
console.log([
  "",
  ...terminalSummary(summary, WIDTH),
  ...rows.flatMap((row) => row.failures.map((failure) => cut(`${row.name} FAILED ${failure.split("\n")[0]}`))),
  "",
  partial
    ? `Full table (markdown, every server): ${output}.md`
    : `Full table (markdown, as docs/benchmarks.md shows it): bun bench/run.ts --table ${output}.json`,
  `Every sample, CPU use, parameters and the machine: ${output}.json; the chart: ${output}.svg`,
].join("\n"));
