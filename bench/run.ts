/**
 * The benchmark: `npm run bench` (`npm run bench:quick` for a smoke run).
 *
 * Starts Echo and its bare baseline side by side on loopback, drives one at a time with the load
 * generator in `load.ts`, workload by workload (throughput in alternating slices, `slices.ts`), and
 * repeats the whole round several times, rotating the order, so that every figure is a median and
 * every ratio compares windows measured together. Prints one markdown table and writes
 * `bench/results.json` and `bench/results.svg` (`bench/results.partial.*`, not kept in git, for
 * `--quick` or `--only`).
 *
 * Options: `--quick`, `--runs N`, `--only NAME` (a substring of a server's name), `--no-pin` (leave the
 * load generator and the servers where the scheduler puts them; see `pinning.ts`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { ENTRIES, type Entry, ROOT, type RunningServer, startServer } from "../tests/support/server.ts";
import { chart } from "./chart.ts";
import { collectGarbage, inspectable } from "./inspector.ts";
import { COLUMNS, type CpuUse, type Figures, PAIRS, percent, type Row, summarise, table } from "./report.ts";
import {
  idleMemory,
  latency,
  type MessageOptions,
  openHandshakes,
  openMessages,
  pseudoRandom,
  type Target,
} from "./load.ts";
import { asError, type Load, type Measured, measureInSlices } from "./slices.ts";
import { describePinning, pinLoadGenerator, pinned } from "./pinning.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const option = (name: string) => args.includes(name) ? args[args.indexOf(name) + 1] : undefined;
const runs = Number(option("--runs") ?? (quick ? 1 : 3));

const pinning = args.includes("--no-pin") ? undefined : pinLoadGenerator();
const timing = quick ? { warmupMs: 150, measureMs: 400 } : { warmupMs: 500, measureMs: 2500 };
/** The throughput workloads' measured time, in slices alternating between a group's servers. */
const slicing = { ...timing, slices: quick ? 2 : 5 };
const IDLE_CONNECTIONS = quick ? 500 : 5000;
const PARAMS = {
  text: { connections: 50, inflight: 16, message: "x".repeat(32) },
  latency: { message: "y".repeat(32) },
  kib64: { connections: 4, inflight: 4, message: pseudoRandom(64 * 1024) },
  mib1: { connections: 2, inflight: 2, message: pseudoRandom(1024 * 1024) },
  handshakes: { parallel: 16 },
  idle: { connections: IDLE_CONNECTIONS, settleMs: quick ? 300 : 2500 },
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


type Server = (typeof SERVERS)[number];

/** A started server and the figures its workloads have given so far in this round. */
interface Subject {
  server: Server;
  running: RunningServer;
  target: Target;
  figures: Partial<Omit<Figures, "cpu">> & { cpu: Partial<Figures["cpu"]> };
}

/** Measures a group's subjects; what went wrong for each (`undefined`: nothing), in their order. */
type Workload = (subjects: Subject[]) => Promise<Array<Error | undefined>>;

/** A workload measured on one server after the other (memory, latency). */
function oneByOne(measure: (subject: Subject) => Promise<void>): Workload {
  return async (subjects) => {
    const outcomes: Array<Error | undefined> = [];
    for (const subject of subjects) outcomes.push(await measure(subject).then(() => undefined, asError));
    return outcomes;
  };
}

/**
 * A throughput workload, measured on a group's servers in alternating slices (`slices.ts`); `finish`
 * ends a server's load and records its figures, or throws what went wrong.
 */
function sliced<L extends Load>(
  open: (target: Target) => L | Promise<L>,
  finish: (subject: Subject, measured: Measured | Error, load: L) => Promise<void>,
): Workload {
  return async (subjects) => {
    const outcomes: Array<Error | undefined> = subjects.map(() => undefined);
    const opened: Array<{ subject: Subject; load: L }> = [];
    for (const [index, subject] of subjects.entries()) {
      try {
        opened.push({ subject, load: await open(subject.target) });
      } catch (error) {
        outcomes[index] = asError(error);
      }
    }
    const sides = opened.map(({ subject, load }) => ({ load, pid: subject.running.process.pid! }));
    const measured = await measureInSlices(sides, slicing);
    for (const [k, { subject, load }] of opened.entries()) {
      try {
        await finish(subject, measured[k], load);
      } catch (error) {
        outcomes[subjects.indexOf(subject)] = asError(error);
      }
    }
    return outcomes;
  };
}

/** A message workload: `record` turns a server's messages per second into its figures. */
function messages(
  params: MessageOptions,
  record: (subject: Subject, perSecond: number, cpu: CpuUse) => void,
): Workload {
  return sliced((target) => openMessages(target, params), async (subject, measured, load) => {
    const check = await load.end();
    if (measured instanceof Error) throw measured;
    if (check.deflate !== subject.server.deflate) throw new Error(`deflate negotiated = ${check.deflate}`);
    record(subject, measured.perSecond, measured.cpu);
  });
}

/**
 * The memory workload, on a process of the server's own started for it with its runtime's inspector open,
 * so that a full garbage collection can be asked before each reading (`inspector.ts`). The throughput
 * workloads run on a process without the inspector: after an inspector session and its collections,
 * Deno's 64 KiB echo ran at 0.86× (Echo) and 0.92× (bare Deno) of the same servers without (sliced A/B,
 * 4 rounds).
 */
async function idleMemoryOf({ server, target, figures }: Subject): Promise<void> {
  const inspected = await startServer(pinned(inspectable(server.entry), pinning));
  try {
    const collect = () => collectGarbage({ name: server.entry.name, output: inspected.output });
    const memory = await idleMemory({ ...target, port: inspected.port }, inspected.process.pid!, {
      ...PARAMS.idle,
      collect,
    });
    figures.idleBytes = memory.perConnection;
    figures.idleRssBytes = memory.rssPerConnection;
  } catch (error) {
    throw new Error(`${asError(error).message}\n--- its output ---\n${inspected.output().slice(-2000)}`);
  } finally {
    await inspected.stop();
  }
}

/** The workloads, in the order each round runs them. */
const WORKLOADS: Workload[] = [
  oneByOne(idleMemoryOf),
  messages(PARAMS.text, ({ figures }, perSecond, cpu) => {
    figures.text = perSecond;
    figures.textPerCpu = perSecond / cpu.server;
    figures.cpu.text = cpu;
  }),
  oneByOne(async ({ target, figures }) => {
    const rtt = await latency(target, { ...timing, ...PARAMS.latency });
    figures.p50 = rtt.p50;
    figures.p99 = rtt.p99;
  }),
  messages(PARAMS.kib64, ({ figures }, perSecond, cpu) => {
    figures.kib64 = perSecond * 64 / 1024;
    figures.cpu.kib64 = cpu;
  }),
  messages(PARAMS.mib1, ({ figures }, perSecond, cpu) => {
    figures.mib1 = perSecond;
    figures.cpu.mib1 = cpu;
  }),
  sliced((target) => openHandshakes(target, PARAMS.handshakes), async ({ figures }, measured) => {
    if (measured instanceof Error) throw measured;
    figures.handshakes = measured.perSecond;
    figures.handshakesPerCpu = measured.perSecond / measured.cpu.server;
    figures.cpu.handshakes = measured.cpu;
  }),
];

/**
 * Servers measured side by side: Echo and its bare baseline are both started; the throughput workloads
 * alternate between them in slices of half a second, and memory and latency are measured on one and
 * at once on the other, so that a comparison row compares windows measured together instead of a
 * minute apart (this machine's noise drifts over seconds). Only one server is under load at a time;
 * the other waits with no connections.
 */
const GROUPS: Server[][] = SERVERS.reduce<Server[][]>((groups, server) => {
  const pair = PAIRS.find((names) => names.includes(server.name));
  const group = pair && groups.find((g) => g.some((other) => pair.includes(other.name)));
  if (group) group.push(server);
  else groups.push([server]);
  return groups;
}, []);

const rows: Row[] = SERVERS.map((server) => ({ name: server.name, runs: [], failures: [] }));

/** Marks `server`'s round as failed: one failed round is a finding, not a reason to lose the others. */
function failed(server: Server, run: number, error: unknown, output: string): void {
  const row = rows[SERVERS.indexOf(server)];
  const message = `${(error as Error).message ?? error}\n--- server output (last 4000 characters) ---\n` +
    output.slice(-4000);
  console.error(`run ${run + 1}/${runs} ${server.name} FAILED: ${message}`);
  row.runs.push(null);
  row.failures.push(`round ${run + 1}: ${message}`);
}

async function measureGroup(group: Server[], run: number): Promise<void> {
  const subjects: Subject[] = [];
  try {
    for (const server of group) {
      try {
        const running = await startServer(pinned(server.entry, pinning), {
          stdoutFile: join(serverLogs, `${SERVERS.indexOf(server)}.log`),
        });
        const target = { port: running.port, deflate: server.deflate };
        subjects.push({ server, running, target, figures: { cpu: {} } });
      } catch (error) {
        failed(server, run, error, "");
      }
    }
    for (const workload of WORKLOADS) {
      const outcomes = await workload(subjects);
      const failing = subjects.filter((_, index) => outcomes[index]);
      for (const subject of failing) {
        const { process: child, output } = subject.running;
        const exited = child.exitCode ?? child.signalCode;
        const error = outcomes[subjects.indexOf(subject)]!;
        failed(subject.server, run, exited === null ? error : `exited (${exited}): ${error}`, output());
        await subject.running.stop();
      }
      subjects.splice(0, subjects.length, ...subjects.filter((subject) => !failing.includes(subject)));
    }
    for (const { server, figures } of subjects) {
      rows[SERVERS.indexOf(server)].runs.push(figures as Figures);
      const cpu = Object.entries(figures.cpu).map(([k, v]) => `${k} ${percent(v.client)}/${percent(v.server)}`);
      const columns = COLUMNS.map((c) => c.format(c.get(figures as Figures))).join(" ");
      console.error(`run ${run + 1}/${runs} ${server.name}: ${columns} | cpu client/server ${cpu.join(", ")}`);
    }
  } finally {
    for (const { running } of subjects) await running.stop();
  }
}

/**
 * Where the measured servers' stdout goes: a pipe to this process would make the load generator read
 * Echo's log lines (two per handshake), work the bare echoes, which log nothing, do not give it.
 */
const serverLogs = mkdtempSync(join(tmpdir(), "echo-bench-"));

const started = Date.now();
try {
  for (let run = 0; run < runs; run++) {
    // The groups' order rotates, and so does the order within a group, from round to round.
    for (let k = 0; k < GROUPS.length; k++) {
      const group = GROUPS[(k + run) % GROUPS.length];
      await measureGroup(run % 2 ? [...group].reverse() : group, run);
    }
  }
} finally {
  rmSync(serverLogs, { recursive: true });
}

const command = `npm run bench${quick ? ":quick" : ""}${option("--runs") ? ` -- --runs ${runs}` : ""}`;
const summary = summarise(rows);
const meta = {
  command,
  date: new Date().toISOString(),
  seconds: Math.round((Date.now() - started) / 1000),
  runs,
  cpus: cpus().length,
  pinning: describePinning(pinning),
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
