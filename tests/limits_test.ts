import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { constants, deflateRawSync } from "node:zlib";
import { setTimeout as sleep } from "node:timers/promises";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";
import { nodeWs } from "./support/clients.ts";

const MIB = 1024 * 1024;

for (const entry of ENTRIES) {
  describe(`limits on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () =>
      server = await startServer(entry, {
        env: {
          MAX_MESSAGE_BYTES: String(64 * 1024),
          MAX_CONNECTIONS: "3",
          ALLOWED_ORIGINS: "https://good.example",
        },
      })
    );
    after(() => server.stop());

    test("a message over MAX_MESSAGE_BYTES closes that connection with 1009", async () => {
      const client = await RawClient.open(server.port, handshakeHeaders());
      client.send({ opcode: OP.BINARY, payload: new Uint8Array(64 * 1024) });
      assert.equal((await client.next())?.payload.length, 64 * 1024, "a message at the limit is echoed");
      client.send({ opcode: OP.BINARY, payload: new Uint8Array(64 * 1024 + 1) });
      const close = await client.next();
      assert.equal(close?.opcode, OP.CLOSE);
      assert.equal(parseClose(close!.payload).code, 1009);
      client.destroy();
    });

    test("a fragmented message over the limit closes with 1009 too", async () => {
      const client = await RawClient.open(server.port, handshakeHeaders());
      for (let i = 0; i < 5; i++) {
        client.send({ opcode: i === 0 ? OP.TEXT : OP.CONT, fin: i === 4, payload: "x".repeat(20_000) });
      }
      const close = await client.next();
      assert.equal(close?.opcode, OP.CLOSE);
      assert.equal(parseClose(close!.payload).code, 1009);
      client.destroy();
    });

    test("past MAX_CONNECTIONS an upgrade gets 503 with Retry-After; a freed slot is reusable", async () => {
      const held = await Promise.all([1, 2, 3].map(() => RawClient.open(server.port, handshakeHeaders())));
      assert.deepEqual(held.map((c) => c.response.status), [101, 101, 101]);
      const refused = await RawClient.open(server.port, handshakeHeaders());
      refused.destroy();
      assert.equal(refused.response.status, 503);
      assert.match(refused.response.headers.get("retry-after") ?? "", /^\d+$/);
      assert.match(refused.response.body, /limit of 3 connections/);
      held[0].destroy();
      // The runtime reports the closed socket asynchronously; the slot frees within a moment.
      let status = 0;
      for (let i = 0; i < 50 && status !== 101; i++) {
        await sleep(100);
        const again = await RawClient.open(server.port, handshakeHeaders());
        status = again.response.status;
        again.destroy();
      }
      assert.equal(status, 101);
      held.forEach((c) => c.destroy());
    });

    test("a browser upgrade from a foreign Origin gets 403 naming the header", async () => {
      const client = await RawClient.open(server.port, handshakeHeaders({ Origin: "https://evil.example" }));
      client.destroy();
      assert.equal(client.response.status, 403);
      assert.match(client.response.body, /Origin/);
    });

    test("a listed Origin (any case) and a request without Origin are upgraded", async () => {
      for (const origin of ["https://good.example", "HTTPS://GOOD.EXAMPLE", null]) {
        const client = await RawClient.open(server.port, handshakeHeaders({ Origin: origin }));
        client.destroy();
        assert.equal(client.response.status, 101, String(origin));
      }
    });
  });
}

describe("decompression bomb on bun", () => {
  let server: RunningServer;
  before(async () => server = await startServer(ENTRIES.find((e) => e.name === "bun")!));
  after(() => server.stop());

  test("a 100 MiB bomb (≈100 KiB compressed) is refused with 1009 and the server still echoes", async () => {
    const client = await RawClient.open(
      server.port,
      handshakeHeaders({ "Sec-WebSocket-Extensions": "permessage-deflate" }),
    );
    assert.match(client.response.headers.get("sec-websocket-extensions") ?? "", /permessage-deflate/);
    const bomb = deflateRawSync(Buffer.alloc(100 * MIB), { flush: constants.Z_SYNC_FLUSH });
    assert.ok(bomb.length < 200 * 1024, `bomb is ${bomb.length} bytes on the wire`);
    client.send({
      opcode: OP.BINARY,
      rsv1: true,
      payload: new Uint8Array(bomb.subarray(0, bomb.length - 4)),
    });
    const close = await client.next();
    assert.equal(close?.opcode, OP.CLOSE);
    assert.equal(parseClose(close!.payload).code, 1009);
    await client.ended();
    const { received } = await nodeWs.exchange(`${server.ws}/`, ["still echoing"], { deflate: true });
    assert.deepEqual(received, [{ type: "text", data: "still echoing" }]);
  });
});
