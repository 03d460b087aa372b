/**
 * Which CPU the load generator runs on and which the server under load runs on. On this 2-core
 * machine the scheduler otherwise moves both between the cores, and a server's window then depends
 * on where the load generator happened to run: A/B rounds of Echo against bare Bun (32-byte text,
 * 8 rounds of 2 s) gave round-to-round ratios of 0.76–1.10 unpinned and 0.90–1.09 (most within
 * 0.93–0.98) pinned. Every server gets the same core, so a ratio still compares like with like.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { cpus, platform } from "node:os";
import type { Entry } from "../tests/support/server.ts";

/** The cores chosen: one for the load generator, one shared by every server. */
export interface Pinning {
  load: number;
  server: number;
}

/** Pins this process (all its threads) to one core and returns the plan; `undefined` when it cannot. */
export function pinLoadGenerator(): Pinning | undefined {
  if (platform() !== "linux" || cpus().length < 2) return undefined;
  const plan = { load: 0, server: 1 };
  const result = spawnSync("taskset", [
    "--all-tasks",
    "--cpu-list",
    "--pid",
    String(plan.load),
    String(process.pid),
  ]);
  return result.status === 0 ? plan : undefined;
}

/** `entry` started on the server's core (the same process: taskset execs the command). */
export function pinned(entry: Entry, pinning: Pinning | undefined): Entry {
  if (!pinning) return entry;
  const taskset = ["taskset", "--cpu-list", String(pinning.server)];
  return {
    name: entry.name,
    command: (script, permissions) => [...taskset, ...entry.command(script, permissions)],
  };
}

/** How the table describes the placement. */
export function describePinning(pinning: Pinning | undefined): string {
  return pinning
    ? `load generator pinned to CPU ${pinning.load}, each server to CPU ${pinning.server} (taskset)`
    : "not pinned to CPUs (--no-pin, or not Linux with 2 CPUs and taskset)";
}
