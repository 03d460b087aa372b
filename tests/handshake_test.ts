import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type RunningServer, startServer } from "./support/server.ts";
import { ENTRIES_AND_BINARY } from "./support/binary.ts";
import { handshakeHeaders, RawClient, SEED_ACCEPT, SEED_HEADERS } from "./support/raw.ts";

for (const entry of ENTRIES_AND_BINARY) {
  describe(`handshake on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry));
    after(() => server.stop());

    async function refusal(headers: Array<[string, string]>, options: { method?: string } = {}) {
      const client = await RawClient.open(server.port, headers, options);
      client.destroy();
      return client.response;
    }

    test("the seed's Chrome handshake gets the seed's accept value (RFC 6455 §4.2.2)", async () => {
      const client = await RawClient.open(server.port, [["Host", "localhost:8181"], ...SEED_HEADERS]);
      const { status, headers, raw } = client.response;
      client.destroy();
      assert.match(raw, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.equal(status, 101);
      assert.equal(headers.get("sec-websocket-accept"), SEED_ACCEPT);
      assert.equal(headers.get("upgrade")?.toLowerCase(), "websocket");
      assert.equal(headers.get("connection")?.toLowerCase(), "upgrade");
      assert.equal(headers.has("sec-websocket-protocol"), false, "no protocol offered, none selected");
    });

    const badKeys: Array<[string, string | null]> = [
      ["missing", null],
      ["short (8 bytes)", "AAAAAAAAAAA="],
      ["long (20 bytes)", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="],
      ["not base64", "!!!!!!!!!!!!!!!!!!!!!!=="],
      ["unpadded", "1CrKNZMpvvE2RDF4Aa866w"],
    ];
    for (const [what, key] of badKeys) {
      test(`Sec-WebSocket-Key ${what} → 400 naming the header`, async () => {
        const response = await refusal(handshakeHeaders({ "Sec-WebSocket-Key": key }));
        assert.equal(response.status, 400);
        assert.match(response.body, /Sec-WebSocket-Key/);
        assert.equal(response.body.trim().split("\n").length, 1);
      });
    }

    for (const version of ["8", "99", "13, 8", null]) {
      test(`Sec-WebSocket-Version ${version ?? "missing"} → 426 with Sec-WebSocket-Version: 13`, async () => {
        const response = await refusal(handshakeHeaders({ "Sec-WebSocket-Version": version }));
        assert.equal(response.status, 426);
        assert.equal(response.headers.get("sec-websocket-version"), "13");
        assert.match(response.body, /Sec-WebSocket-Version/);
      });
    }

    for (const method of ["POST", "PUT", "DELETE"]) {
      test(`${method} with Upgrade: websocket → 405 with Allow: GET`, async () => {
        const response = await refusal(handshakeHeaders(), { method });
        assert.equal(response.status, 405);
        assert.equal(response.headers.get("allow"), "GET");
        assert.match(response.body, /GET/);
      });
    }

    test("an upgrade request with a body is never upgraded", async () => {
      const response = await refusal([...handshakeHeaders(), ["Content-Length", "0"]], { method: "POST" });
      // Deno's HTTP layer answers 400 itself to any upgrade request with body framing, before
      // Echo sees it; Bun passes the request on and Echo answers 405.
      assert.equal(response.status, entry.runtime === "deno" ? 400 : 405);
    });

    for (const connection of [null, "keep-alive", "upgrades"]) {
      test(`Connection: ${connection ?? "(missing)"} → 400 naming the header`, async () => {
        const response = await refusal(handshakeHeaders({ Connection: connection }));
        assert.equal(response.status, 400);
        assert.match(response.body, /Connection/);
      });
    }

    for (const [name, value] of [["Connection", "keep-alive, Upgrade"], ["Upgrade", "WebSocket"]]) {
      test(`${name}: ${value} is accepted (token lists, any case)`, async () => {
        const client = await RawClient.open(server.port, handshakeHeaders({ [name]: value }));
        client.destroy();
        assert.equal(client.response.status, 101);
      });
    }

    for (const offer of ["chat,superchat", "chat, superchat", "chat ,  superchat", "chat"]) {
      test(`Sec-WebSocket-Protocol: ${offer} → chat`, async () => {
        const client = await RawClient.open(
          server.port,
          handshakeHeaders({ "Sec-WebSocket-Protocol": offer }),
        );
        client.destroy();
        assert.equal(client.response.status, 101);
        assert.equal(client.response.headers.get("sec-websocket-protocol"), "chat");
      });
    }

    test("a protocol list that is not tokens → 400 naming the header", async () => {
      const response = await refusal(handshakeHeaders({ "Sec-WebSocket-Protocol": "chat, sup er" }));
      assert.equal(response.status, 400);
      assert.match(response.body, /Sec-WebSocket-Protocol/);
    });

    test("GET / without upgrade answers 200 with how to connect", async () => {
      const response = await fetch(`${server.http}/`);
      assert.equal(response.status, 200);
      const body = await response.text();
      assert.match(body, /WebSocket echo/);
      assert.ok(body.includes(`ws://127.0.0.1:${server.port}/`), body);
    });

    test("other paths get the HTTP echo (tests/http_echo_test.ts)", async () => {
      const response = await fetch(`${server.http}/nope`);
      assert.equal(response.status, 200);
      assert.equal((await response.json()).path, "/nope");
    });

    test("the server still upgrades after all these refusals", async () => {
      const client = await RawClient.open(server.port, handshakeHeaders());
      client.destroy();
      assert.equal(client.response.status, 101);
    });
  });
}
