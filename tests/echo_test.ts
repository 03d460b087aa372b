import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { type RunningServer, startServer } from "./support/server.ts";
import { ENTRIES_AND_BINARY } from "./support/binary.ts";
import { closePayload, handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";
import { CLIENTS, expected } from "./support/clients.ts";

const MIB = 1024 * 1024;

const MESSAGES: Array<[string, Array<string | Uint8Array>]> = [
  ["text", ["hello", "héllo wörld ✓ 🎉"]],
  ["binary", [new Uint8Array([0, 1, 2, 254, 255]), new Uint8Array(randomBytes(1000))]],
  ["empty text and empty binary", ["", new Uint8Array(0)]],
  ["text and binary interleaved", ["a", new Uint8Array([97]), "b", new Uint8Array([98])]],
  ["1 MiB text and 1 MiB binary", ["x".repeat(MIB), new Uint8Array(randomBytes(MIB))]],
];

for (const entry of ENTRIES_AND_BINARY) {
  describe(`echo on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry));
    after(() => server.stop());

    for (const client of CLIENTS) {
      for (const [what, messages] of MESSAGES) {
        test(`${client.name}: ${what} come back byte-exact with their type`, async () => {
          const { received } = await client.exchange(`${server.ws}/`, messages);
          assert.deepEqual(received, messages.map(expected));
        });
      }
    }

    test("a fragmented text message comes back as one message (RFC 6455 §5.4)", async () => {
      const client = await RawClient.open(server.port, handshakeHeaders());
      client.send({ opcode: OP.TEXT, fin: false, payload: "frag" });
      client.send({ opcode: OP.CONT, fin: false, payload: "men" });
      client.send({ opcode: OP.CONT, fin: true, payload: "ted ✓" });
      const echo = await client.next();
      client.destroy();
      assert.equal(echo?.opcode, OP.TEXT);
      assert.equal(echo?.fin, true);
      assert.equal(new TextDecoder().decode(echo?.payload), "fragmented ✓");
    });

    test("a fragmented binary message with a ping between fragments comes back whole", async () => {
      const client = await RawClient.open(server.port, handshakeHeaders());
      const bytes = new Uint8Array(randomBytes(300));
      client.send({ opcode: OP.BINARY, fin: false, payload: bytes.subarray(0, 100) });
      client.send({ opcode: OP.PING, payload: "p" });
      client.send({ opcode: OP.CONT, fin: true, payload: bytes.subarray(100) });
      const pong = await client.next();
      const echo = await client.next();
      client.destroy();
      assert.equal(pong?.opcode, OP.PONG);
      assert.equal(new TextDecoder().decode(pong?.payload), "p");
      assert.equal(echo?.opcode, OP.BINARY);
      assert.deepEqual(echo?.payload, bytes);
    });

    test("Echo sends no frame the client did not cause, and one echo per message", async () => {
      const client = await RawClient.open(server.port, handshakeHeaders());
      await assert.rejects(client.next(500), /no frame/, "no greeting or banner after the 101");
      client.send({ opcode: OP.TEXT, payload: "one" });
      client.send({ opcode: OP.BINARY, payload: "two" });
      const frames = [await client.next(), await client.next()];
      assert.deepEqual(frames.map((f) => [f?.opcode, f?.masked, new TextDecoder().decode(f?.payload)]), [
        [OP.TEXT, false, "one"],
        [OP.BINARY, false, "two"],
      ]);
      await assert.rejects(client.next(500), /no frame/, "nothing after the echoes");
      client.send({ opcode: OP.CLOSE, payload: closePayload(1000, "bye") });
      const close = await client.next();
      assert.equal(close?.opcode, OP.CLOSE);
      assert.equal(parseClose(close!.payload).code, 1000);
      await client.ended();
    });
  });
}
