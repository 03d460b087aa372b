/**
 * Asking a heap probe (`heap_probe_bun.ts`, `heap_probe_deno.ts`) running inside a server for a reading.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";

/** Where a probe prints: the server's output so far and its process id. */
export interface Probed {
  output(): string;
  pid: number;
}

/**
 * Sends `signal` to the server and waits (up to 60 s: a heap snapshot takes seconds) for the probe's
 * answer, a line `LABEL <number>` printed after the signal; resolves to the number.
 */
export async function askProbe(
  server: Probed,
  signal: "SIGUSR1" | "SIGUSR2",
  label: string,
): Promise<number> {
  const mark = server.output().length;
  process.kill(server.pid, signal);
  const answer = new RegExp(`${label} (\\d+)\\n`);
  for (let waited = 0; waited < 60_000; waited += 50) {
    const reading = answer.exec(server.output().slice(mark));
    if (reading) return Number(reading[1]);
    await sleep(50);
  }
  throw new Error(`the heap probe did not answer ${signal} with ${label}`);
}
