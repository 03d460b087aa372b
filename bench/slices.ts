/**
 * Measuring servers in alternating slices: each server's load runs for a short slice, then the next
 * server's, and so on, so that the servers compared share the machine's drift instead of each
 * getting a window of its own seconds apart.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { CpuUse } from "./report.ts";

/** A workload's client side, connected and idle until `resume`. */
export interface Load {
  /** Starts (or starts again) driving the server. */
  resume(): void;
  /** Stops starting new work and resolves once what was in flight has come back. */
  pause(): Promise<void>;
  /** Units completed so far: echoes, or closing handshakes. */
  completed(): number;
}

/** A load and the server process it drives. */
export interface Side {
  load: Load;
  pid: number;
}

/** How the slices are laid out. */
export interface SliceTiming {
  /** Load before a side's first slice, not measured. */
  warmupMs: number;
  /** Measured time per side, split into `slices` slices. */
  measureMs: number;
  slices: number;
}

/** A side's completed units per second and CPU use over its slices together. */
export interface Measured {
  perSecond: number;
  cpu: CpuUse;
}

/**
 * Load after a resume that is not measured: the pipeline refills (16 messages per connection are
 * back in flight within a millisecond; a handshake loop takes a few).
 */
const SETTLE_MS = 100;

/** How long a pause may wait for what is in flight before the server counts as stuck. */
const PAUSE_TIMEOUT_MS = 10_000;

/**
 * Runs `sides` one at a time, slice after slice (the order reversed every other slice, so that a
 * steady drift favours no side), and returns each side's figures over its slices, or the error that
 * ended its measurement (the other sides go on without it).
 */
export async function measureInSlices(sides: Side[], timing: SliceTiming): Promise<Array<Measured | Error>> {
  const totals = sides.map(() => ({ units: 0, seconds: 0, client: 0, server: 0 }));
  const failures: Array<Error | undefined> = sides.map(() => undefined);
  const sliceMs = timing.measureMs / timing.slices;
  for (const [index, { load }] of sides.entries()) {
    failures[index] = await attempt(async () => {
      load.resume();
      await sleep(timing.warmupMs);
      await paused(load);
    });
  }
  for (let slice = 0; slice < timing.slices; slice++) {
    const order = sides.map((_, index) => index);
    if (slice % 2) order.reverse();
    for (const index of order) {
      if (failures[index]) continue;
      const { load, pid } = sides[index];
      failures[index] = await attempt(async () => {
        load.resume();
        await sleep(SETTLE_MS);
        const before = load.completed();
        const meter = new Meter(pid);
        await sleep(sliceMs);
        const units = load.completed() - before;
        const window = meter.stop();
        await paused(load);
        const total = totals[index];
        total.units += units;
        total.seconds += window.seconds;
        total.client += window.clientSeconds;
        total.server += window.serverSeconds;
      });
    }
  }
  return totals.map((total, index) =>
    failures[index] ?? {
      perSecond: total.units / total.seconds,
      cpu: { client: total.client / total.seconds, server: total.server / total.seconds },
    }
  );
}

/** What went wrong, as an `Error` whatever was thrown. */
export const asError = (error: unknown): Error => error instanceof Error ? error : new Error(String(error));

/** Runs `step`; resolves with what it threw, or `undefined`. */
const attempt = (step: () => Promise<void>): Promise<Error | undefined> =>
  step().then(() => undefined, asError);

async function paused(load: Load): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`in-flight work not back after ${PAUSE_TIMEOUT_MS} ms`)),
      PAUSE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([load.pause(), stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
}

/** A window over which the client's (this process's) and the server's CPU time are measured. */
class Meter {
  #start = performance.now();
  #client = process.cpuUsage();
  #server: number;
  constructor(readonly pid: number) {
    this.#server = processCpuSeconds(pid);
  }
  stop(): { seconds: number; clientSeconds: number; serverSeconds: number } {
    const client = process.cpuUsage(this.#client);
    return {
      seconds: (performance.now() - this.#start) / 1000,
      clientSeconds: (client.user + client.system) / 1e6,
      serverSeconds: processCpuSeconds(this.pid) - this.#server,
    };
  }
}
