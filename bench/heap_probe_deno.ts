/**
 * Wraps a Deno server for `bench/idle_heap.ts` and `bench/deno_heap.ts`. The server is
 * `HEAP_PROBE_SCRIPT`, so that `Deno.args` stay the server's own; run with `--v8-flags=--expose-gc`.
 * - SIGUSR2: collects garbage and prints the JavaScript heap still in use (`HEAP <bytes>` on stderr).
 * - SIGUSR1 (a mark, needs `HEAP_PROBE_OUT`): collects garbage, writes a heap snapshot to
 *   `HEAP_PROBE_OUT-<n>.heapsnapshot`, writes what was allocated since the previous mark (V8's sampling
 *   heap profiler, objects collected since included) to `HEAP_PROBE_OUT-<n>.heapprofile`, and prints
 *   `MARK <n>` on stderr.
 */
import { Session } from "node:inspector";
import { writeHeapSnapshot } from "node:v8";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
Deno.addSignalListener("SIGUSR2", () => {
  gc();
  gc();
  console.error(`HEAP ${Deno.memoryUsage().heapUsed}`);
});

const out = Deno.env.get("HEAP_PROBE_OUT");
if (out) {
  const inspector = new Session();
  inspector.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      inspector.post(method, params, (error, result) => error ? reject(error) : resolve({ ...result }))
    );
  // Every 64 bytes on average; garbage counts too, since what a handshake leaves to collect is the point.
  const sampling = {
    samplingInterval: 64,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  };
  await post("HeapProfiler.enable");
  // Its own function, so that the profile's objects are garbage before the next snapshot.
  const writeProfile = async (path: string) => {
    const { profile } = await post("HeapProfiler.stopSampling");
    Deno.writeTextFileSync(path, JSON.stringify(profile));
  };
  let marks = 0;
  Deno.addSignalListener("SIGUSR1", async () => {
    const n = marks++;
    gc();
    gc();
    writeHeapSnapshot(`${out}-${n}.heapsnapshot`);
    if (n > 0) await writeProfile(`${out}-${n}.heapprofile`);
    await post("HeapProfiler.startSampling", sampling);
    console.error(`MARK ${n}`);
  });
}

const script = Deno.env.get("HEAP_PROBE_SCRIPT");
if (!script) throw new Error("HEAP_PROBE_SCRIPT names the server to run");
const server = await import(new URL(`../${script}`, import.meta.url).href);
// main.ts starts when it is the main module; imported, it is started here. The bare echo starts on import.
if (typeof server.start === "function") server.start();
