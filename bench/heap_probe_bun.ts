/**
 * Preloaded into a Bun server by `bench/idle_heap.ts` and `bench/upgrade_garbage.ts`. On SIGUSR2 it
 * collects garbage and prints the JavaScript heap still in use (`HEAP <bytes>` on stderr), so what the
 * server keeps can be told apart from garbage it has not collected yet. On SIGUSR1 it prints the heap's
 * capacity without collecting (`CAPACITY <bytes>`): with collections held off, its growth is everything
 * allocated, garbage included.
 */
import { heapStats } from "bun:jsc";

process.on("SIGUSR2", () => {
  Bun.gc(true);
  Bun.gc(true);
  console.error(`HEAP ${heapStats().heapSize}`);
});

process.on("SIGUSR1", () => {
  console.error(`CAPACITY ${heapStats().heapCapacity}`);
});
