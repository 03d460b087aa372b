/**
 * One worker thread of `bun run bun/server.ts --workers N`: serves the port the main thread chose
 * (reusePort) and joins the in-process fleet over a `BroadcastChannel`, which Bun delivers between
 * the threads of one process. Signals reach the main thread only, which relays them as "drain".
 *
 * @module
 */
import { FLEET_CHANNEL } from "../lib/fleet/channel.ts";
import { drain, listen, type Listening } from "./echo.ts";
import { failureLine } from "./settings.ts";
import type { WorkerCommand, WorkerReport } from "./workers.ts";

declare const self: Worker;

let serving: Listening | undefined;

self.onmessage = (event: MessageEvent<WorkerCommand>) => {
  const command = event.data;
  if (command === "drain") {
    if (!serving) process.exit(0);
    // process.exit in a worker ends this thread only; the main thread reads the status (Bun docs, Workers).
    void drain(serving);
  } else if (!serving) {
    try {
      serving = listen(command.serve, {}, new BroadcastChannel(FLEET_CHANNEL));
    } catch (error) {
      // Every thread fails alike: the main thread prints the line once and exits 2 with them.
      self.postMessage({ failed: failureLine(error, command.serve) } satisfies WorkerReport);
      process.exit(2);
    }
  }
};
