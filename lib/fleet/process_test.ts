import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { captureConnection } from "../connection.ts";
import type { Context } from "../context.ts";
import { joinProcessFleet } from "./process.ts";
import { route } from "../http/routes.ts";
import { ownConnections } from "../info/info.ts";
import { testContext } from "../testing_context.ts";

/** Adds a live connection tagged `tag` to `context`, as an upgrade would. */
function connect(context: Context, tag: string) {
  const request = new Request(`http://echo.test/?tag=${tag}`, {
    headers: { "sec-websocket-key": "1CrKNZMpvvE2RDF4Aa866w==", "user-agent": "Test Browser" },
  });
  const connection = captureConnection(request, {
    id: context.registry.nextId(),
    remoteAddress: "192.0.2.7",
    protocol: undefined,
    extensions: "",
  });
  context.registry.opened();
  connection.messagesIn = 2;
  const member = { connection, hubSlot: -1, close() {}, keepalive() {} };
  context.hub.add(member);
  return member;
}

async function info(url: string, context: Context) {
  const response = await route(new Request(url, { headers: { host: "echo.test" } }), context);
  assert.equal(response.status, 200);
  return await response.json();
}

/** Two members of one fleet over two real BroadcastChannels, knowing each other. */
async function twoMembers() {
  const name = `fleet-test-${crypto.randomUUID()}`;
  const [a, b] = [testContext().context, testContext().context];
  const sources = [
    joinProcessFleet(a, new BroadcastChannel(name), (tag) => ownConnections(tag, a)),
    joinProcessFleet(b, new BroadcastChannel(name), (tag) => ownConnections(tag, b)),
  ];
  for (let i = 0; i < 200 && (await sources[0].members()).length < 1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { a, b, close: () => sources.forEach((s) => s.close()) };
}

describe("/info across two members of one process", () => {
  test("?tag= finds a connection the other member holds, live and after close, in full", async () => {
    const { a, b, close } = await twoMembers();
    try {
      const held = connect(b, "far");
      let body = await info("http://echo.test/info?tag=far", a);
      assert.equal(body.live.length, 1);
      assert.equal(body.live[0].tag, "far");
      assert.equal(body.live[0].request.userAgent, "Test Browser", "a tag shows its record in full");
      assert.deepEqual(body.live[0].member, { id: b.process.id, pid: 0 });
      assert.equal(body.live[0].received.messages, 2, "counters as the holder reads them now");
      assert.deepEqual(body.fleet.member, { id: a.process.id, pid: 0 });
      assert.deepEqual(body.fleet.sources, [{ source: "process", available: true }]);

      b.hub.remove(held);
      b.registry.closed(held.connection, { code: 1000, reason: "bye", closedBy: "client" });
      body = await info("http://echo.test/info?tag=far", a);
      assert.deepEqual(body.live, []);
      assert.equal(body.recent.length, 1);
      assert.equal(body.recent[0].closed.code, 1000);
      assert.equal(body.recent[0].member.id, b.process.id);

      connect(a, "near");
      body = await info("http://echo.test/info?tag=near", a);
      assert.equal(body.live[0].member.id, a.process.id, "its own connection, found locally");
      assert.deepEqual((await info("http://echo.test/info?tag=none", a)).live, []);
    } finally {
      close();
    }
  });

  test("without a tag: the fleet's members, live counts and totals, and this member's own lists", async () => {
    const { a, b, close } = await twoMembers();
    try {
      connect(a, "one");
      connect(b, "two");
      connect(b, "three");
      const body = await info("http://echo.test/info", a);
      assert.equal(body.live.length, 1, "its own live list only");
      assert.equal(body.totals.connections, 1, "its own totals");
      assert.equal(body.fleet.live, 3);
      assert.equal(body.fleet.totals.connections, 3);
      assert.equal(body.fleet.totals.received.messages, 6);
      const members = body.fleet.members.map((m: { id: string; live: number }) => [m.id, m.live]);
      assert.deepEqual(members, [[a.process.id, 1], [b.process.id, 2]]);
      assert.equal(body.fleet.members[0].self, true);
    } finally {
      close();
    }
  });
});
