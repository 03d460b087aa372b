import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { ENTRIES, startServer } from "./support/server.ts";
import { closePayload, handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";

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

    test("a client that never answers the close holds exit no longer than the grace period", {
      timeout: 30_000,
    }, async () => {
      const server = await startServer(entry, { env: { SHUTDOWN_GRACE_SECONDS: "2" } });
      const client = await RawClient.open(server.port, handshakeHeaders());
      const exited = new Promise<number | null>((resolve) =>
        server.process.once("exit", (code) => resolve(code))
      );
      const start = Date.now();
      process.kill(server.process.pid!, "SIGTERM");
      assert.equal((await client.next())?.opcode, OP.CLOSE);
      assert.equal(await exited, 0);
      const took = Date.now() - start;
      // Deno waits the whole grace period for the answer; Bun counts the socket closed once its close frame is out.
      assert.ok(took < 2000 + 3000, `exited after ${took} ms`);
      client.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
      client.destroy();
    });
  });
}
