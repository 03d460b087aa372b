import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Connection, countReceived, countSent, receivedTraffic } from "./connection.ts";
import { RECENT_LIMIT, Registry } from "./registry.ts";
import { testConnection } from "./testing_context.ts";

function connect(registry: Registry, tag = "t"): Connection {
  return testConnection(registry.nextId(), `http://echo.test/?tag=${tag}`);
}

describe("Registry", () => {
  test("RECENT_LIMIT is 100", () => {
    assert.equal(RECENT_LIMIT, 100);
  });

  test("starts empty", () => {
    const registry = new Registry();
    assert.deepEqual(registry.recent, []);
    assert.deepEqual(registry.totals([]), {
      connections: 0,
      received: { messages: 0, bytes: 0 },
      sent: { messages: 0, bytes: 0 },
    });
  });

  test("closesByCode: the closes by code, in code order, as one log field", () => {
    const registry = new Registry();
    assert.equal(registry.closesByCode(), "");
    for (const code of [1006, 1001, 1001, 1000]) {
      registry.closed(connect(registry), { code, reason: "", closedBy: "client" });
    }
    assert.equal(registry.closesByCode(), "1000:1,1001:2,1006:1");
  });

  test("hands out ids 1, 2, 3, ... per registry", () => {
    const one = new Registry();
    const two = new Registry();
    assert.deepEqual([one.nextId(), one.nextId(), one.nextId()], [1, 2, 3]);
    assert.equal(two.nextId(), 1);
  });

  test("opened() counts a connection", () => {
    const registry = new Registry();
    registry.opened();
    registry.opened();
    assert.equal(registry.totals([]).connections, 2);
  });

  test("totals add the live connections' traffic to that of the closed ones", () => {
    const registry = new Registry();
    const [a, b, c] = [connect(registry), connect(registry), connect(registry)];
    countReceived(a, 5);
    countReceived(a, 6);
    countSent(a, 5);
    countReceived(b, 10);
    countSent(b, 10);
    countSent(b, 0);
    countReceived(c, 100);
    registry.closed(c, { code: 1000, reason: "", closedBy: "client" });
    assert.deepEqual(registry.totals([a, b]), {
      connections: 0,
      received: { messages: 4, bytes: 121 },
      sent: { messages: 3, bytes: 15 },
    });
    assert.deepEqual(registry.totals([]).received, { messages: 1, bytes: 100 }, "the closed one only");
    countReceived(a, 1);
    assert.deepEqual(registry.totals([a, b]).received, { messages: 5, bytes: 122 }, "read anew each time");
  });

  test("a connection's traffic stays in the totals once it closes", () => {
    const registry = new Registry();
    const a = connect(registry);
    countReceived(a, 7);
    countSent(a, 7);
    const live = registry.totals([a]);
    registry.closed(a, { code: 1001, reason: "", closedBy: "server" });
    assert.deepEqual(registry.totals([]), live);
  });

  test("closed() adds a connection to the recent ones with how and when it ended", () => {
    const registry = new Registry();
    const a = connect(registry, "a");
    a.openedAt = Date.now() - 1500;
    registry.opened();
    countReceived(a, 2);
    const before = Date.now();
    registry.closed(a, { code: 1000, reason: "bye", closedBy: "client" });
    const after = Date.now();
    assert.equal(registry.recent.length, 1);
    const closed = registry.recent[0];
    assert.equal(closed.id, 1);
    assert.equal(closed.tag, "a");
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, "bye");
    assert.equal(closed.closedBy, "client");
    assert.deepEqual(receivedTraffic(closed), { messages: 1, bytes: 2 });
    assert.ok(closed.closedAt >= before && closed.closedAt <= after);
    assert.equal(closed.durationMs, closed.closedAt - a.openedAt);
    assert.ok(closed.durationMs >= 1500, String(closed.durationMs));
    assert.equal(registry.totals([]).connections, 1, "closing does not change the total");
  });

  test("keeps only the RECENT_LIMIT most recent closes, oldest first", () => {
    const registry = new Registry();
    const total = RECENT_LIMIT + 25;
    for (let i = 0; i < total; i++) {
      const connection = connect(registry);
      registry.opened();
      countReceived(connection, 3);
      registry.closed(connection, { code: 1000, reason: `r${i}`, closedBy: "server" });
    }
    assert.equal(registry.recent.length, RECENT_LIMIT);
    assert.equal(registry.recent[0].id, 26);
    assert.equal(registry.recent[0].reason, "r25");
    assert.equal(registry.recent[RECENT_LIMIT - 1].id, total);
    assert.equal(registry.closedCount, total, "closes are counted past the ones kept");
    assert.deepEqual(
      registry.recent.map((c) => c.id),
      Array.from({ length: RECENT_LIMIT }, (_, i) => i + 26),
    );
    assert.deepEqual(registry.totals([]), {
      connections: total,
      received: { messages: total, bytes: 3 * total },
      sent: { messages: 0, bytes: 0 },
    });
  });

  test("keeps exactly RECENT_LIMIT closes without dropping any", () => {
    const registry = new Registry();
    for (let i = 0; i < RECENT_LIMIT; i++) {
      const connection = connect(registry);
      registry.opened();
      registry.closed(connection, { code: 1000, reason: "", closedBy: "client" });
    }
    assert.equal(registry.recent.length, RECENT_LIMIT);
    assert.equal(registry.recent[0].id, 1);
  });
});
