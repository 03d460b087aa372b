/**
 * Wraps a Deno server for `bench/idle_heap.ts`: on SIGUSR2 it collects garbage and prints the
 * JavaScript heap still in use (`HEAP <bytes>` on stderr). The server is `HEAP_PROBE_SCRIPT`, so that
 * `Deno.args` stay the server's own; run with `--v8-flags=--expose-gc`.
 */
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
Deno.addSignalListener("SIGUSR2", () => {
  gc();
  gc();
  console.error(`HEAP ${Deno.memoryUsage().heapUsed}`);
});
const script = Deno.env.get("HEAP_PROBE_SCRIPT");
if (!script) throw new Error("HEAP_PROBE_SCRIPT names the server to run");
const server = await import(new URL(`../${script}`, import.meta.url).href);
// main.ts starts when it is the main module; imported, it is started here. The bare echo starts on import.
if (typeof server.start === "function") server.start();
