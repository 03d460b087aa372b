import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { BINARY_ENTRY } from "./support/binary.ts";
import { ENTRIES, type Entry, startServer } from "./support/server.ts";
import { handshakeHeaders, OP, parseClose, RawClient, readyz } from "./support/raw.ts";

const CONNECTIONS = 50;

for (const entry of ENTRIES) {
  describe(`graceful shutdown on ${entry.name}`, () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      test(`${signal} with ${CONNECTIONS} open connections: each gets close 1001, exit 0`, {
        timeout: 30_000,
      }, async () => {
        const server = await startServer(entry, { env: { SHUTDOWN_GRACE_SECONDS: "5" } });
        const clients = await Promise.all(
          Array.from({ length: CONNECTIONS }, () => RawClient.open(server.port, handshakeHeaders())),
        );
        const exited = new Promise<number | null>((resolve) =>
          server.process.once("exit", (code) => resolve(code))
        );
        const start = Date.now();
        // node:process kill, not the child handle's: Deno's child_process then reports the real exit code.
        process.kill(server.process.pid!, signal);
        const closes = await Promise.all(clients.map(async (client) => {
          const frame = await client.next();
          assert.equal(frame?.opcode, OP.CLOSE);
          client.send({ opcode: OP.CLOSE, payload: frame!.payload.subarray(0, 2) });
          return parseClose(frame!.payload);
        }));
        for (const close of closes) assert.deepEqual(close, { code: 1001, reason: "server shutting down" });
        assert.equal(await exited, 0);
        assert.ok(
          Date.now() - start < 5000,
          `exited after ${Date.now() - start} ms, within the grace period`,
        );
        clients.forEach((c) => c.destroy());
      });
    }

    test("a client that ends its TCP connection without answering the close does not hold the exit", {
      timeout: 30_000,
    }, async () => {
      const server = await startServer(entry, { env: { SHUTDOWN_GRACE_SECONDS: "10" } });
      const client = await RawClient.open(server.port, handshakeHeaders());
      const exited = new Promise<number | null>((resolve) =>
        server.process.once("exit", (code) => resolve(code))
      );
      const start = Date.now();
      process.kill(server.process.pid!, "SIGTERM");
      assert.equal((await client.next())?.opcode, OP.CLOSE);
      client.destroy();
      assert.equal(await exited, 0);
      const took = Date.now() - start;
      assert.ok(took < 5000, `exited after ${took} ms, not at the end of the 10 s grace period`);
    });
  });
}

/** How long the drain is given in the tests of a client that never answers. */
const GRACE_MS = 2000;

/**
 * Each way Echo runs, for a drain with a client that neither answers the close nor hangs up: the two
 * entries, Bun's worker threads and the single executable (a Bun program).
 */
const DRAINS: ReadonlyArray<{ name: string; entry: Entry; args?: string[] }> = [
  ...ENTRIES.map((entry) => ({ name: entry.name, entry })),
  { name: "bun --workers 2", entry: ENTRIES.find((e) => e.name === "bun")!, args: ["--workers", "2"] },
  { name: "the executable", entry: BINARY_ENTRY },
];

for (const { name, entry, args } of DRAINS) {
  test(
    `${name}: SIGTERM with a client that never answers the close: /readyz answers 503 through the grace period, exit 0 at its end`,
    { timeout: 30_000 },
    async () => {
      const server = await startServer(entry, {
        args,
        env: { SHUTDOWN_GRACE_SECONDS: String(GRACE_MS / 1000) },
      });
      // Bun sends a FIN after its close frame; node:net would answer it with its own and end the connection.
      const client = await RawClient.open(server.port, handshakeHeaders(), { allowHalfOpen: true });
      const exited = new Promise<number | null>((resolve) =>
        server.process.once("exit", (code) => resolve(code))
      );
      let exitedAt = 0;
      void exited.then(() => exitedAt = Date.now());
      const start = Date.now();
      process.kill(server.process.pid!, "SIGTERM");
      const frame = await client.next();
      assert.equal(frame?.opcode, OP.CLOSE);
      assert.deepEqual(parseClose(frame!.payload), { code: 1001, reason: "server shutting down" });
      const ready: Array<[number, number | string]> = [];
      for (const at of [300, 1000, 1600]) {
        await sleep(start + at - Date.now());
        ready.push([at, await readyz(server.port)]);
      }
      assert.deepEqual(ready, [[300, 503], [1000, 503], [1600, 503]], "/readyz during the grace period");
      assert.equal(await exited, 0);
      const took = exitedAt - start;
      assert.ok(
        took >= GRACE_MS - 100,
        `exited after ${took} ms, before the ${GRACE_MS} ms grace period ended`,
      );
      assert.ok(took < GRACE_MS + 3000, `exited after ${took} ms`);
      client.destroy();
    },
  );
}

// uWebSockets sets a 4 s timeout on a socket it has sent its close frame on (the ping margin, with Echo's
// idleTimeout: 0), and Bun drops the connection then (docs/deploy.md, "Liveness and readiness").
test(
  "bun: with a 5 s grace period, a client that never answers holds the drain all of it, though Bun drops it at ~4 s",
  {
    timeout: 30_000,
  },
  async () => {
    const server = await startServer(ENTRIES.find((e) => e.name === "bun")!, {
      env: { SHUTDOWN_GRACE_SECONDS: "5" },
    });
    const client = await RawClient.open(server.port, handshakeHeaders(), { allowHalfOpen: true });
    const exited = new Promise<number | null>((resolve) =>
      server.process.once("exit", (code) => resolve(code))
    );
    const start = Date.now();
    process.kill(server.process.pid!, "SIGTERM");
    assert.equal((await client.next())?.opcode, OP.CLOSE);
    assert.equal(await readyz(server.port), 503);
    assert.equal(await exited, 0);
    const took = Date.now() - start;
    assert.ok(took >= 4900 && took < 8000, `exited after ${took} ms`);
    client.destroy();
  },
);
