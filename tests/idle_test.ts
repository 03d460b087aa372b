import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";

const IDLE_SECONDS = 2;

for (const entry of ENTRIES) {
  describe(`idle timeout on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () =>
      server = await startServer(entry, { env: { IDLE_TIMEOUT_SECONDS: String(IDLE_SECONDS) } })
    );
    after(() => server.stop());

    test(
      "a silent peer is pinged at half the timeout, then closed with 1001",
      { timeout: 20_000 },
      async () => {
        const client = await RawClient.open(server.port, handshakeHeaders());
        const start = Date.now();
        const ping = await client.next(IDLE_SECONDS * 1000 + 2000);
        assert.equal(ping?.opcode, OP.PING);
        const pingedAfter = Date.now() - start;
        const close = await client.next(IDLE_SECONDS * 1000 + 2000);
        const closedAfter = Date.now() - start;
        assert.equal(close?.opcode, OP.CLOSE);
        assert.equal(parseClose(close!.payload).code, 1001);
        assert.ok(pingedAfter >= IDLE_SECONDS * 500 - 300, `pinged after ${pingedAfter} ms`);
        assert.ok(closedAfter >= IDLE_SECONDS * 1000 - 300, `closed after ${closedAfter} ms`);
        client.destroy();
      },
    );

    test(
      "a peer that answers pings, or keeps sending, is kept past the timeout",
      { timeout: 20_000 },
      async () => {
        const ponger = await RawClient.open(server.port, handshakeHeaders());
        const talker = await RawClient.open(server.port, handshakeHeaders());
        const deadline = Date.now() + IDLE_SECONDS * 2500;
        const talking = setInterval(() => talker.send({ opcode: OP.TEXT, payload: "still here" }), 300);
        try {
          while (Date.now() < deadline) {
            const frame = await ponger.next(deadline - Date.now()).catch(() => null);
            if (frame === null) break;
            assert.equal(frame?.opcode, OP.PING, "the ponger only ever sees pings");
            ponger.send({ opcode: OP.PONG, payload: frame!.payload });
          }
        } finally {
          clearInterval(talking);
        }
        for (const client of [ponger, talker]) {
          client.send({ opcode: OP.TEXT, payload: "alive?" });
          let frame = await client.next();
          // Earlier echoes, and keepalive pings (answered as any client would), may come first.
          while (
            (frame?.opcode === OP.TEXT && new TextDecoder().decode(frame.payload) === "still here") ||
            frame?.opcode === OP.PING
          ) {
            if (frame.opcode === OP.PING) client.send({ opcode: OP.PONG, payload: frame.payload });
            frame = await client.next();
          }
          assert.equal(frame?.opcode, OP.TEXT);
          assert.equal(new TextDecoder().decode(frame?.payload), "alive?");
          client.destroy();
        }
      },
    );
  });
}
