/**
 * `--workers N` on Bun: N worker threads of this process (`bun/worker.ts`) serving one port.
 *
 * @module
 */
import type { Settings } from "../lib/server/cli.ts";

/** What the main thread tells a worker thread (bun/worker.ts). */
export type WorkerCommand = { serve: Settings } | "drain";

/** What a worker thread tells the main thread: the one line of a listener that could not open. */
export type WorkerReport = { failed: string };

/**
 * Runs `workers` threads of this process (bun/worker.ts), each serving the same port with reusePort
 * (Linux spreads connections among them) and joining the in-process fleet, so /info finds a
 * connection whichever thread holds it. This thread serves nothing: it picks the port, relays
 * SIGTERM/SIGINT to every thread, and exits once all have, with the first failing status.
 */
export function startWorkers(settings: Settings): void {
  const count = settings.config.workers || navigator.hardwareConcurrency;
  // reusePort would give each thread its own free port for port 0, so pick one first.
  const port = settings.config.port || freePort(settings.config.host);
  const serving: WorkerCommand = { serve: { ...settings, config: { ...settings.config, port } } };
  const printed = new Set<string>();
  const statuses = Array.from({ length: count }, () => {
    // A URL beside this file: `bun build --compile bun/server.ts bun/worker.ts` embeds the worker there.
    const worker = new Worker(new URL("./worker.ts", import.meta.url));
    const closed = new Promise<number>((resolve) => {
      worker.addEventListener("close", (event) => resolve((event as CloseEvent).code));
      worker.addEventListener("message", (event) => {
        const { failed } = (event as MessageEvent<WorkerReport>).data;
        if (!printed.has(failed)) console.error(failed);
        printed.add(failed);
      });
      worker.addEventListener("error", (event) => {
        console.error(`echo: a worker thread failed: ${(event as ErrorEvent).message}`);
        resolve(1);
      });
    });
    worker.postMessage(serving);
    return { worker, closed };
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    // A second signal reaches each thread's shutDown again, which then stops waiting.
    process.on(signal, () => statuses.forEach(({ worker }) => worker.postMessage("drain" satisfies WorkerCommand)));
  }
  void Promise.all(statuses.map(({ closed }) => closed)).then((codes) =>
    process.exit(codes.find((code) => code !== 0) ?? 0)
  );
}

function freePort(hostname: string): number {
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
