/**
 * What the single executable must do as `bun run bun/server.ts` does beyond the handshake, echo and
 * knob tests (which run against it too): `--help` naming itself, `--workers` (the executable re-runs
 * itself, not a script), and SIGTERM draining with close 1001.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { BINARY_ENTRY } from "./support/binary.ts";
import { answeredBy } from "./support/fleets.ts";
import { runToExit, startServer } from "./support/server.ts";
import { handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";

describe("the single executable", () => {
  test("--help names the executable and exits 0", async () => {
    const { code, stdout } = await runToExit(BINARY_ENTRY, { args: ["--help"] });
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: echo-ws-linux-(x64|arm64) \[options\]$/m);
    assert.match(stdout, /healthcheck \[options\]/);
  });

  test(
    "--workers 2: two threads of the executable's one process answer on one port",
    { timeout: 30_000 },
    async () => {
      const server = await startServer(BINARY_ENTRY, { args: ["--workers", "2"] });
      const exited = new Promise((resolve) => server.process.once("exit", resolve));
      try {
        const members = new Set<string>();
        for (let i = 0; i < 300 && members.size < 2; i++) {
          const who = await answeredBy(server.port);
          members.add(`${who.pid}/${who.id}`);
        }
        assert.equal(members.size, 2, `answered by ${[...members]}`);
        for (const member of members) assert.equal(member.split("/")[0], String(server.process.pid), member);
      } finally {
        // SIGTERM, which the main thread relays to both threads as a drain.
        process.kill(server.process.pid!, "SIGTERM");
        await exited;
      }
    },
  );

  test("SIGTERM: a client gets close 1001 and the process exits 0", { timeout: 30_000 }, async () => {
    const server = await startServer(BINARY_ENTRY);
    const client = await RawClient.open(server.port, handshakeHeaders());
    const exited = new Promise<number | null>((resolve) =>
      server.process.once("exit", (code) => resolve(code))
    );
    process.kill(server.process.pid!, "SIGTERM");
    const frame = await client.next();
    assert.equal(frame?.opcode, OP.CLOSE);
    assert.deepEqual(parseClose(frame!.payload), { code: 1001, reason: "server shutting down" });
    client.send({ opcode: OP.CLOSE, payload: frame!.payload.subarray(0, 2) });
    assert.equal(await exited, 0);
    client.destroy();
  });
});
