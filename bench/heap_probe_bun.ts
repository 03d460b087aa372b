/**
 * Preloaded into a Bun server by `bench/idle_heap.ts`: on SIGUSR2 it collects garbage and prints the
 * JavaScript heap still in use (`HEAP <bytes>` on stderr), so what the server keeps can be told apart
 * from garbage it has not collected yet.
 */
import { heapStats } from "bun:jsc";

process.on("SIGUSR2", () => {
  Bun.gc(true);
  Bun.gc(true);
  console.error(`HEAP ${heapStats().heapSize}`);
});
