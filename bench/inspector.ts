/**
 * A full garbage collection on demand, asked of a server's runtime through its inspector, so that the
 * memory workload reads what idle connections keep rather than what their handshakes left to collect.
 * Without it, Deno's readings moved by megabytes from round to round: how far V8's young generation
 * had grown in the burst of upgrades, and whether its memory reducer had run yet (~17 s after it).
 *
 * The bench starts each server once more for the memory workload alone, with its inspector open on a
 * free loopback port (`run.ts` says why not for the others). Bun speaks WebKit's inspector protocol
 * (`Heap.gc`), Deno and Node Chrome's (`HeapProfiler.collectGarbage`); both collect everything
 * unreachable before they answer.
 *
 * @module
 */
import type { Entry } from "../tests/support/server.ts";

/** The flag that opens a runtime's inspector on a free loopback port (Bun, Deno and Node alike). */
const INSPECT = "--inspect=127.0.0.1:0";

/** `entry` with its inspector open: the flag goes just before the script, where all three runtimes take it. */
export function inspectable(entry: Entry): Entry {
  return {
    name: entry.name,
    command: (script, permissions) => {
      const command = entry.command(script, permissions);
      return [...command.slice(0, -1), INSPECT, command[command.length - 1]];
    },
  };
}

/** What {@link collectGarbage} needs of a server started from an {@link inspectable} entry. */
export interface Inspected {
  /** The entry's name: `bun` for Bun, anything else for a V8 runtime. */
  name: string;
  /** Everything the server printed so far, where its runtime announces the inspector's address. */
  output(): string;
}

/** Runs one full garbage collection in the server and resolves once the runtime says it is done. */
export async function collectGarbage(server: Inspected): Promise<void> {
  // Deno and Node print `ws://HOST:PORT/<uuid>`, Bun the same inside a banner.
  const address = /ws:\/\/[\d.:]+\/[\da-f-]{36}/.exec(server.output())?.[0];
  if (!address) throw new Error(`no inspector address in the server's output (started without ${INSPECT}?)`);
  const method = server.name === "bun" ? "Heap.gc" : "HeapProfiler.collectGarbage";
  const socket = new WebSocket(address);
  try {
    const reply = await new Promise<{ error?: { message: string } }>((resolve, reject) => {
      socket.onopen = () => socket.send(JSON.stringify({ id: 1, method }));
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data));
        if (message.id === 1) resolve(message);
      };
      socket.onerror = () => reject(new Error(`the inspector at ${address} failed`));
      socket.onclose = () =>
        reject(new Error(`the inspector at ${address} closed before answering ${method}`));
    });
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
  } finally {
    socket.close();
  }
}
