import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { constants, inflateRawSync } from "node:zlib";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { handshakeHeaders, OP, RawClient } from "./support/raw.ts";
import { nodeWs } from "./support/clients.ts";
import { COMPRESS_MIN_BYTES } from "../lib/compression.ts";

const CHROME_OFFER = "permessage-deflate; client_max_window_bits";

/** Inflates one permessage-deflate message (RFC 7692 §7.2.2: the tail 00 00 ff ff was removed). */
function inflate(payload: Uint8Array): string {
  const tail = new Uint8Array([0, 0, 0xff, 0xff]);
  return new TextDecoder().decode(
    inflateRawSync(Buffer.concat([payload, tail]), { finishFlush: constants.Z_SYNC_FLUSH }),
  );
}

for (const entry of ENTRIES) {
  describe(`permessage-deflate on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry));
    after(() => server.stop());

    if (entry.name === "bun") {
      test("Chrome's offer is negotiated and large echoes arrive compressed (RSV1)", async () => {
        const client = await RawClient.open(
          server.port,
          handshakeHeaders({ "Sec-WebSocket-Extensions": CHROME_OFFER }),
        );
        assert.match(client.response.headers.get("sec-websocket-extensions") ?? "", /^permessage-deflate/);
        const text = "echo ".repeat(200);
        client.send({ opcode: OP.TEXT, payload: text });
        const echo = await client.next();
        client.destroy();
        assert.equal(echo?.opcode, OP.TEXT);
        assert.equal(echo?.rsv1, true, "RSV1 marks a compressed message");
        assert.ok(echo!.payload.length < text.length / 4, `compressed to ${echo!.payload.length} bytes`);
        assert.equal(inflate(echo!.payload), text);
      });

      test(`echoes under ${COMPRESS_MIN_BYTES} bytes go uncompressed, at and above it compressed`, async () => {
        const client = await RawClient.open(
          server.port,
          handshakeHeaders({ "Sec-WebSocket-Extensions": CHROME_OFFER }),
        );
        const below = "a".repeat(COMPRESS_MIN_BYTES - 1);
        const at = "a".repeat(COMPRESS_MIN_BYTES);
        client.send({ opcode: OP.TEXT, payload: below });
        client.send({ opcode: OP.TEXT, payload: at });
        const [small, large] = [await client.next(), await client.next()];
        client.destroy();
        assert.equal(small?.rsv1, false);
        assert.equal(new TextDecoder().decode(small?.payload), below);
        assert.equal(large?.rsv1, true);
        assert.equal(inflate(large!.payload), at);
      });

      test("a compressed message from the client is echoed byte-exact (Node ws with deflate)", async () => {
        const text = "compress me ".repeat(1000);
        const exchange = await nodeWs.exchange(`${server.ws}/`, [text, new TextEncoder().encode(text)], {
          deflate: true,
        });
        assert.match(exchange.extensions, /permessage-deflate/);
        assert.deepEqual(exchange.received, [
          { type: "text", data: text },
          { type: "binary", data: new TextEncoder().encode(text) },
        ]);
      });

      for (const mode of ["dedicated", "off"]) {
        test(`DEFLATE=${mode}: Node ws gets ${mode === "off" ? "no extension" : "deflate"}, echoes byte-exact`, async () => {
          const other = await startServer(entry, { env: { DEFLATE: mode } });
          try {
            const text = "compress me ".repeat(1000);
            const exchange = await nodeWs.exchange(`${other.ws}/`, [text], { deflate: true });
            assert.equal(exchange.extensions, mode === "off" ? "" : "permessage-deflate");
            assert.deepEqual(exchange.received, [{ type: "text", data: text }]);
          } finally {
            await other.stop();
          }
        });
      }
    } else {
      test("Deno's native WebSocket declines permessage-deflate: no extension, no RSV1", async () => {
        const client = await RawClient.open(
          server.port,
          handshakeHeaders({ "Sec-WebSocket-Extensions": CHROME_OFFER }),
        );
        assert.equal(client.response.status, 101);
        assert.equal(client.response.headers.has("sec-websocket-extensions"), false);
        const text = "echo ".repeat(200);
        client.send({ opcode: OP.TEXT, payload: text });
        const echo = await client.next();
        client.destroy();
        assert.equal(echo?.rsv1, false);
        assert.equal(new TextDecoder().decode(echo?.payload), text);
      });
    }
  });
}
