import { test } from "node:test";
import assert from "node:assert/strict";
import type { FleetMatch, FleetSource, FleetStatus } from "./fleet.ts";
import { askFleet, heldBy } from "./fleet_lookup.ts";
import { route } from "./routes.ts";
import { testContext } from "./testing_context.ts";

/** A source answering from a fixed list, as a member reached through a channel or engine would. */
function source(name: string, matches: FleetMatch[], status: Partial<FleetStatus> = {}) {
  const asked: string[] = [];
  const fleetSource: FleetSource = {
    name,
    lookup: (tag) => {
      asked.push(tag);
      return Promise.resolve(matches);
    },
    members: () => Promise.resolve(matches.map((m) => m.member)),
    status: () => ({ source: name, available: true, ...status }),
    close() {},
  };
  return { fleetSource, asked };
}

const MEMBER = { id: "m2", pid: 42, live: 1, seenAt: 0 };
const FOUND: FleetMatch = { member: MEMBER, live: [{ id: 7, tag: "t" }], recent: [{ id: 3, tag: "t" }] };

test("sources are asked in order until one finds the tag", async () => {
  const first = source("process", []);
  const second = source("redis", [FOUND]);
  const third = source("kv", [FOUND]);
  const answer = await askFleet("t", [first.fleetSource, second.fleetSource, third.fleetSource]);
  assert.deepEqual(answer.matches, [FOUND]);
  assert.deepEqual([first.asked, second.asked, third.asked], [["t"], ["t"], []]);
  assert.deepEqual(answer.sources.map((s) => s.source), ["process", "redis", "kv"]);
  assert.deepEqual(heldBy({ id: 7 }, MEMBER), { id: 7, member: { id: "m2", pid: 42 } });
});

test("/info?tag= a member does not hold shows the fleet's records, marked with their member", async () => {
  const { context } = testContext();
  const reason = "cannot reach redis://127.0.0.1:1: Connection closed";
  const down = source("redis", [], { available: false, reason });
  const up = source("kv", [FOUND]);
  context.fleet.push(down.fleetSource, up.fleetSource);
  const body = await (await route(new Request("http://echo.test/info?tag=t"), context)).json();
  assert.deepEqual(body.live, [{ id: 7, tag: "t", member: { id: "m2", pid: 42 } }]);
  assert.deepEqual(body.recent, [{ id: 3, tag: "t", member: { id: "m2", pid: 42 } }]);
  assert.deepEqual(body.fleet, [{ source: "redis", available: false, reason }, {
    source: "kv",
    available: true,
  }]);
  const untagged = await (await route(new Request("http://echo.test/info"), context)).json();
  assert.deepEqual(untagged.live, [], "without a tag the fleet is not asked");
  assert.equal(untagged.fleet[0].available, false);
  assert.deepEqual(down.asked, ["t"]);
});
