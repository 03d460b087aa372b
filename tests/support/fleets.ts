/**
 * Echo on all cores for tests: `deno serve --parallel serve.ts` with two isolates and
 * `bun run bun/server.ts --workers 2` with two threads, and GETs on fresh TCP connections (JSON, and
 * which member answered).
 *
 * @module
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./nginx.ts";
import { denoServeEntry, ENTRIES, type RunningServer, startServer } from "./server.ts";

/** An /info answer, read loosely: tests assert on the fields they need. */
// deno-lint-ignore no-explicit-any
export type Info = Record<string, any>;

/** GET on a fresh TCP connection (so the kernel picks a member for each): the whole response. */
function getFresh(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => text += chunk);
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
  });
}

/** GET on a fresh TCP connection, parsed as JSON. */
export async function getJson(port: number, path: string): Promise<Info> {
  const text = await getFresh(port, path);
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  try {
    // Deno and Bun answer with a Content-Length body here, never chunked.
    return JSON.parse(body);
  } catch {
    throw new Error(`not JSON from ${path}: ${JSON.stringify(text.slice(0, 300))}`);
  }
}

/** The process and member that answered: `echo_process_info` in /metrics. */
export interface Member {
  pid: string;
  id: string;
}

/** Which process and member answer GET /metrics on a fresh TCP connection. */
export async function answeredBy(port: number): Promise<Member> {
  const text = await getFresh(port, "/metrics");
  const match = /^echo_process_info\{pid="(\d+)",id="([0-9a-f]+)"\} 1$/m.exec(text);
  if (!match) throw new Error(`no echo_process_info in ${JSON.stringify(text.slice(0, 300))}`);
  return { pid: match[1], id: match[2] };
}

/** Waits until `/info` lists two members, for up to 20 s (a fresh clone compiles on start-up). */
export async function twoMembers(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const info = await getJson(port, "/info");
    if (info.fleet.members.length === 2) return;
    await sleep(50);
  }
  assert.fail("the fleet never listed two members");
}

/** The two all-cores shapes, each started with two members. */
export const FLEETS: Array<{ name: string; start(): Promise<RunningServer> }> = [
  {
    name: "deno serve --parallel serve.ts (DENO_JOBS=2)",
    async start() {
      const entry = denoServeEntry(await freePort());
      return await startServer(entry, { env: { DENO_JOBS: "2", SHUTDOWN_GRACE_SECONDS: "5" } });
    },
  },
  {
    name: "bun run bun/server.ts --workers 2",
    start: () =>
      startServer(ENTRIES.find((entry) => entry.name === "bun")!, {
        args: ["--workers", "2", "--port", "0"],
        env: { SHUTDOWN_GRACE_SECONDS: "5" },
      }),
  },
];
