import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { denoServeEntry, ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { answeredBy, type Member } from "./support/fleets.ts";
import { freePort } from "./support/nginx.ts";
import { listeningPorts, processTree } from "./support/listeners.ts";
import { handshakeHeaders, OP, RawClient } from "./support/raw.ts";

/**
 * Asks until two different workers have answered, for up to 15 s: the isolates or processes past the
 * first may still be starting when the first one already answers (a fresh clone compiles on start-up).
 */
async function workersSeen(port: number): Promise<Member[]> {
  const seen = new Map<string, Member>();
  const deadline = Date.now() + 15_000;
  while (seen.size < 2 && Date.now() < deadline) {
    const who = await answeredBy(port);
    seen.set(`${who.pid}/${who.id}`, who);
    if (seen.size < 2) await sleep(20);
  }
  return [...seen.values()];
}

async function echoes(port: number): Promise<void> {
  const client = await RawClient.open(port, handshakeHeaders());
  assert.equal(client.response.status, 101);
  client.send({ opcode: OP.TEXT, payload: "all cores" });
  client.send({ opcode: OP.BINARY, payload: new Uint8Array([0, 1, 2, 255]) });
  const [text, binary] = [await client.next(), await client.next()];
  assert.equal(text?.opcode, OP.TEXT);
  assert.equal(new TextDecoder().decode(text!.payload), "all cores");
  assert.equal(binary?.opcode, OP.BINARY);
  assert.deepEqual([...binary!.payload], [0, 1, 2, 255]);
  client.send({ opcode: OP.CLOSE, payload: new Uint8Array([0x03, 0xe8]) });
  assert.equal((await client.next())?.opcode, OP.CLOSE);
}

describe("deno serve --parallel serve.ts", () => {
  let server: RunningServer;
  let port: number;
  before(async () => {
    port = await freePort();
    const entry = denoServeEntry(port);
    // Two isolates whatever the machine has; PORT is not Echo's to decide under deno serve.
    server = await startServer(entry, { env: { DENO_JOBS: "2", PORT: "1" } });
  });
  after(() => server?.stop());

  test("serves echo on the port deno serve was given", async () => {
    assert.equal(server.port, port);
    await echoes(port);
  });

  test("two isolates of one process answer", { timeout: 30_000 }, async () => {
    const seen = await workersSeen(port);
    assert.equal(seen.length, 2, JSON.stringify(seen));
    assert.equal(seen[0].pid, seen[1].pid);
    assert.equal(seen[0].pid, String(server.process.pid));
  });

  test("listens on that one port only (no second server from the module itself)", async () => {
    const ports = await listeningPorts(await processTree(server.process.pid!));
    assert.deepEqual([...ports.keys()], [port]);
    assert.match(server.output(), /"event":"ignored under deno serve".*"options":"PORT"/);
  });
});

describe("bun run bun/server.ts --workers 2", () => {
  let server: RunningServer;
  let tree: number[];
  before(async () => {
    const entry = ENTRIES.find((entry) => entry.name === "bun")!;
    server = await startServer(entry, { args: ["--workers", "2", "--port", "0"] });
    // Both workers print their listening line; wait for the second one.
    for (let i = 0; i < 100 && server.output().split("listening on").length < 3; i++) {
      await sleep(50);
    }
    tree = await processTree(server.process.pid!);
  });
  after(() => server?.stop());

  test("serves echo", () => echoes(server.port));

  test("two worker threads of the one process answer", { timeout: 30_000 }, async () => {
    const seen = await workersSeen(server.port);
    assert.equal(seen.length, 2, JSON.stringify(seen));
    assert.notEqual(seen[0].id, seen[1].id);
    for (const who of seen) assert.equal(Number(who.pid), server.process.pid);
    assert.deepEqual(tree, [server.process.pid], "no child processes");
  });

  test("the threads share one port (reusePort): two listening sockets, one process", async () => {
    assert.deepEqual(await listeningPorts([server.process.pid!]), new Map([[server.port, 2]]));
  });

  test("SIGTERM drains every thread, then the process exits", async () => {
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      server.process.once("close", (code, signal) => resolve([code, signal]))
    );
    server.process.kill("SIGTERM");
    const [code, signal] = await exited;
    // Deno's node:child_process reports the signal it sent even when the child handled it and
    // exited 0 (checked with a child that traps SIGTERM: bash and Node see 0, Deno sees SIGTERM).
    if ("Bun" in globalThis) assert.deepEqual([code, signal], [0, null]);
    else assert.ok(code === 0 || signal === "SIGTERM", `${code} ${signal}`);
    const drained = server.output().split("\n").filter((line) => line.includes('"shutdown complete"'));
    assert.equal(drained.length, 2, server.output());
    assert.equal(existsSync(`/proc/${server.process.pid}/status`), false, "the process still runs");
  });
});
