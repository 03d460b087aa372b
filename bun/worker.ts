/**
 * One worker thread of `bun run bun/server.ts --workers N`: serves the port the main thread chose
 * (reusePort) and joins the in-process fleet over a `BroadcastChannel`, which Bun delivers between
 * the threads of one process. Signals reach the main thread only, which relays them as "drain".
 *
 * @module
 */
import { FLEET_CHANNEL } from "../lib/channel_fleet.ts";
import { shutDown } from "../lib/cli.ts";
import { joinProcessFleet } from "../lib/process_fleet.ts";
import { listen, type Listening, type WorkerCommand } from "./server.ts";

declare const self: Worker;

let serving: Listening | undefined;

self.onmessage = (event: MessageEvent<WorkerCommand>) => {
  const command = event.data;
  if (command === "drain") {
    if (!serving) process.exit(0);
    const { server, context } = serving;
    // process.exit in a worker ends this thread only; the main thread reads the status (Bun docs, Workers).
    void shutDown(context, { stopListening: () => server.stop(false), exit: process.exit });
  } else if (!serving) {
    serving = listen(command.serve);
    joinProcessFleet(serving.context, new BroadcastChannel(FLEET_CHANNEL));
  }
};
