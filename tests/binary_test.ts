/**
 * What the single executable must do as `bun run bun/server.ts` does beyond the handshake, echo and
 * knob tests (which run against it too): `--help` naming itself, `--workers` (the executable re-runs
 * itself, not a script), and SIGTERM draining with close 1001.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import process from "node:process";
import { BINARY_ENTRY } from "./support/binary.ts";
import { runToExit, startServer } from "./support/server.ts";
import { handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";

/** The pid and member id in /metrics, on a fresh TCP connection so that the kernel picks a thread each time. */
function answeredBy(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    });
    let text = "";
    socket.on("data", (chunk: Buffer) => text += chunk.toString());
    socket.on("error", reject);
    socket.on("close", () => {
      const match = /^echo_process_info\{pid="(\d+)",id="(\w+)"/m.exec(text);
      if (match) resolve(`${match[1]}/${match[2]}`);
      else reject(new Error(`no echo_process_info in ${JSON.stringify(text.slice(0, 200))}`));
    });
  });
}

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
        for (let i = 0; i < 300 && members.size < 2; i++) members.add(await answeredBy(server.port));
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
