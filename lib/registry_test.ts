import { test } from "node:test";
import assert from "node:assert/strict";
import { captureConnection } from "./connection.ts";
import { RECENT_LIMIT, Registry } from "./registry.ts";

function open(registry: Registry, tag: string) {
  const request = new Request(`http://echo.test/?tag=${tag}`, {
    headers: {
      "sec-websocket-key": "1CrKNZMpvvE2RDF4Aa866w==",
      "sec-websocket-extensions": "permessage-deflate",
    },
  });
  const connection = captureConnection(request, {
    id: registry.nextId(),
    remoteAddress: "192.0.2.1",
    protocol: undefined,
    extensions: "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
  });
  registry.opened(connection);
  return connection;
}

test("a connection records its handshake, counts traffic both ways, and moves to recent on close", () => {
  const registry = new Registry();
  const c = open(registry, "abc");
  assert.equal(c.tag, "abc");
  assert.equal(c.request.extensions, "permessage-deflate");
  assert.equal(c.extensions, "permessage-deflate; client_no_context_takeover; server_no_context_takeover");
  registry.received(c, "héllo");
  registry.sent(c, new Uint8Array(3));
  assert.deepEqual([c.received, c.sent], [{ messages: 1, bytes: 6 }, { messages: 1, bytes: 3 }]);
  registry.closed(c, { code: 1000, reason: "bye", closedBy: "client" });
  assert.equal(registry.live.size, 0);
  assert.equal(registry.recent[0].code, 1000);
  assert.equal(registry.recent[0].closedBy, "client");
  assert.ok(registry.recent[0].durationMs >= 0);
  registry.closed(c, { code: 1006, reason: "", closedBy: "network" });
  assert.equal(registry.recent.length, 1, "a second close is ignored");
});

test(`recent keeps the last ${RECENT_LIMIT} closes; totals keep counting`, () => {
  const registry = new Registry();
  for (let i = 0; i < RECENT_LIMIT + 5; i++) {
    registry.closed(open(registry, `t${i}`), { code: 1000, reason: "", closedBy: "client" });
  }
  assert.equal(registry.recent.length, RECENT_LIMIT);
  assert.equal(registry.recent[0].tag, "t5");
  assert.equal(registry.totals.connections, RECENT_LIMIT + 5);
});
