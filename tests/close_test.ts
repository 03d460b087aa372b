/**
 * Closes Echo starts reach the wire whatever the client does meanwhile: a client that writes many
 * messages in one TCP write, or keeps sending when the server decides to close, still gets exactly
 * the echoes before the close and then the close frame with its code and reason, on both entries
 * (on Deno a message arriving after `close()` used to cut the TCP connection: docs/limits.md).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { encodeFrame, type Frame, handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";

const LIMIT = 1024;

/** Text frames `m0`… as one buffer, so that they leave in one TCP write. */
function burst(count: number, from = 0): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => encodeFrame({ opcode: OP.TEXT, payload: `m${from + i}` }));
}

/**
 * Reads frames until the close frame, answers it as a client must (RFC 6455 §5.5.1) and waits for the
 * TCP connection to end; returns the texts echoed before it and the close, or `undefined` for none.
 */
async function untilClose(
  client: RawClient,
): Promise<{ echoes: string[]; close?: { code: number; reason: string } }> {
  const echoes: string[] = [];
  for (let frame: Frame | undefined; (frame = await client.next(20_000)) !== undefined;) {
    if (frame.opcode !== OP.CLOSE) {
      echoes.push(new TextDecoder().decode(frame.payload));
      continue;
    }
    client.send({ opcode: OP.CLOSE, payload: frame.payload.subarray(0, 2) });
    await client.ended(20_000);
    return { echoes, close: parseClose(frame.payload) };
  }
  return { echoes };
}

for (const entry of ENTRIES) {
  describe(`server closes under late input on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry, { env: { MAX_MESSAGE_BYTES: String(LIMIT) } }));
    after(() => server.stop());

    test("echo_close=4001&echo_after=3&echo_reason=bye, 10 messages in one write: 3 echoes, then 4001 bye", async () => {
      for (let round = 0; round < 3; round++) {
        const client = await RawClient.open(server.port, handshakeHeaders(), {
          path: "/?echo_close=4001&echo_after=3&echo_reason=bye",
        });
        client.write(Buffer.concat(burst(10)));
        assert.deepEqual(await untilClose(client), {
          echoes: ["m0", "m1", "m2"],
          close: { code: 4001, reason: "bye" },
        }, `round ${round}`);
        client.destroy();
      }
    });

    test("an oversize message after 3 others in one write: 3 echoes, then 1009", async () => {
      for (let round = 0; round < 3; round++) {
        const client = await RawClient.open(server.port, handshakeHeaders());
        const oversize = encodeFrame({ opcode: OP.BINARY, payload: new Uint8Array(LIMIT + 1) });
        client.write(Buffer.concat([...burst(3), oversize, ...burst(6, 3)]));
        const { echoes, close } = await untilClose(client);
        assert.deepEqual(echoes, ["m0", "m1", "m2"], `round ${round}`);
        assert.equal(close?.code, 1009, `round ${round}`);
        client.destroy();
      }
    });

    test("SIGTERM while a client sends a burst every 200 ms: it gets 1001 and the server exits 0", {
      timeout: 30_000,
    }, async () => {
      const own = await startServer(entry);
      try {
        const client = await RawClient.open(own.port, handshakeHeaders());
        let from = 0;
        const sending = setInterval(() => {
          if (!client.socket.destroyed) client.write(Buffer.concat(burst(10, from += 10)));
        }, 200);
        const exited = new Promise<number | null>((resolve) => own.process.once("exit", resolve));
        // Let a few bursts be echoed, then stop the server mid-stream.
        for (let echoes = 0; echoes < 20; echoes++) assert.equal((await client.next())?.opcode, OP.TEXT);
        process.kill(own.process.pid!, "SIGTERM");
        const { close } = await untilClose(client);
        clearInterval(sending);
        assert.deepEqual(close, { code: 1001, reason: "server shutting down" });
        assert.equal(await exited, 0);
        client.destroy();
      } finally {
        await own.stop();
      }
    });
  });
}
