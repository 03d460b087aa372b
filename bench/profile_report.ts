/**
 * What `bench/profile_bun.ts` and `bench/profile_deno.ts` share: the `--workload` option, starting
 * and stopping Echo, the load that drives it while its runtime samples it, and the report of the
 * resulting CPU profile (the functions with the most self-time samples, and with the most samples
 * in which they are on the stack, i.e. total).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { ROOT } from "../tests/support/server.ts";
import { handshakes, messageRate, type Target } from "./load.ts";

/** A `.cpuprofile`, as Bun writes it and as the DevTools protocol's `Profiler.stop` returns it. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    /** Positions are 0-based. */
    callFrame: {
      functionName: string;
      scriptId: string;
      url: string;
      lineNumber: number;
      columnNumber: number;
    };
    children?: number[];
  }>;
  /** The leaf node of each sample. */
  samples: number[];
}

/** Echo, started for profiling. */
export interface Echo {
  process: ChildProcess;
  /** Resolves with the first match of `pattern` in what the runtime printed on stderr. */
  stderr(pattern: RegExp): Promise<RegExpExecArray>;
}

/** How one runtime profiles the Echo it runs. */
export interface Profiler {
  /** Starts Echo with profiling on, run in the repository root; `--port 0 --log-format json` follow. */
  command: string[];
  /** Begins sampling, once Echo listens. */
  start(echo: Echo): Promise<void>;
  /** Ends sampling and returns the profile; Echo is killed afterwards if it still runs. */
  finish(echo: Echo): Promise<CpuProfile>;
}

/** The sampling interval in microseconds (the runtimes' default, 1 ms, is coarse for a 4 s run). */
export const SAMPLING_MICROSECONDS = 200;

const TIMING = { warmupMs: 500, measureMs: 4000 };
const TOP = 25;
const perSecond = (rate: number) => Math.round(rate).toLocaleString("en");

/** The loads `--workload` names, each returning the rate Echo reached under it. */
const WORKLOADS: Record<string, (target: Target, pid: number) => Promise<string>> = {
  text: async (target, pid) => {
    const options = { ...TIMING, connections: 50, inflight: 16, message: "x".repeat(32) };
    return `${perSecond((await messageRate(target, pid, options)).perSecond)} messages/s`;
  },
  handshakes: async (target, pid) =>
    `${perSecond((await handshakes(target, pid, { ...TIMING, parallel: 16 })).perSecond)} handshakes/s`,
};

/**
 * Profiles Echo under the load named by `--workload text|handshakes` in `args` (default text; with
 * `--deflate` the clients offer permessage-deflate) and prints the rate it reached, the sample count,
 * and the self and total tables.
 */
export async function profileEcho(profiler: Profiler, args: string[]): Promise<void> {
  const name = args.includes("--workload") ? args[args.indexOf("--workload") + 1] : "text";
  if (!Object.hasOwn(WORKLOADS, name)) throw new Error("--workload is text or handshakes");
  const [command, ...rest] = profiler.command;
  const child = spawn(command, [...rest, "--port", "0", "--log-format", "json"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const { echo, port } = await started(child);
    await profiler.start(echo);
    const rate = await WORKLOADS[name]({ port, deflate: args.includes("--deflate") }, child.pid!);
    console.log(report(rate, await profiler.finish(echo)));
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  }
}

/** Resolves once Echo prints its listening line. */
function started(child: ChildProcess): Promise<{ echo: Echo; port: number }> {
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => stderr += chunk.toString());
  const echo: Echo = {
    process: child,
    stderr: (pattern) =>
      new Promise((resolve) => {
        const find = () => {
          const match = pattern.exec(stderr);
          if (!match) return;
          child.stderr!.off("data", find);
          resolve(match);
        };
        child.stderr!.on("data", find);
        find();
      }),
  };
  let stdout = "";
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`Echo exited (${code}) before listening:\n${stderr}`)));
    const listening = (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on ws:\/\/[^\s]*:(\d+)\//.exec(stdout);
      if (!match) return;
      // The stream keeps flowing without a listener: Echo's log lines are drained unread.
      child.stdout!.off("data", listening);
      resolve({ echo, port: Number(match[1]) });
    };
    child.stdout!.on("data", listening);
  });
}

/** The markdown report: a line with the rate and sample count, then the self and total tables. */
export function report(rate: string, profile: CpuProfile): string {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const label = (id: number) => {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const where = url ? `${url.replace("file://", "").replace(ROOT, "")}:${lineNumber + 1}` : "native";
    return `${functionName || "(anonymous)"} (${where})`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const id of profile.samples) {
    self.set(label(id), (self.get(label(id)) ?? 0) + 1);
    const stack = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) stack.add(label(at));
    for (const name of stack) total.set(name, (total.get(name) ?? 0) + 1);
  }
  const lines = [`${rate}; ${profile.samples.length} samples`];
  for (const [title, counts] of [["self", self], ["total", total]] as const) {
    lines.push("", `| ${title} % | function |`, "| ---: | --- |");
    for (const [name, count] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
      lines.push(`| ${((100 * count) / profile.samples.length).toFixed(1)} | ${name} |`);
    }
  }
  return lines.join("\n");
}
