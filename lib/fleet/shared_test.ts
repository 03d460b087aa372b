import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { FleetMember } from "../fleet_source.ts";
import { boundedValue, FLEET_TIMING, freshMembers, matchesFrom, type TagValue } from "./shared.ts";
import { utf8Length } from "../utf8.ts";

const NOW = 1_700_000_000_000;

function member(id: string, ageMs: number): FleetMember {
  return { id, pid: 1, live: 1, seenAt: NOW - ageMs };
}

function value(of: FleetMember, ageMs: number, live: number[], recent: number[]): string {
  const tagValue: TagValue = {
    member: of,
    at: NOW - ageMs,
    live: live.map((id) => ({ id })),
    recent: recent.map((id) => ({ id, closed: { code: 1000 } })),
  };
  return JSON.stringify(tagValue);
}

describe("the shared fleet's records", () => {
  const fresh = member("a", 500);
  const dead = member("b", FLEET_TIMING.staleMs + 1);
  const gone = member("c", FLEET_TIMING.memberTtlMs + 1);
  const heartbeats = new Map([fresh, dead, gone, member("me", 0)].map((m) => [m.id, JSON.stringify(m)]));

  test("members: fresh heartbeats only, never this member; long-gone ones are to delete", () => {
    const { members, expired } = freshMembers(heartbeats, "me", NOW);
    assert.deepEqual(members, [fresh]);
    assert.deepEqual(expired, ["c"]);
    assert.deepEqual(freshMembers(new Map([["x", "not json"]]), "me", NOW).expired, ["x"]);
  });

  test("a tag: live records of fresh members, closed ones of any member while young", () => {
    const values = new Map([
      ["a", value(fresh, 100, [1], [2])],
      ["b", value(dead, 100, [3], [4])],
      ["c", value(gone, 100, [5], [])],
      ["me", value(member("me", 0), 0, [6], [])],
      ["old", value(member("old", 0), FLEET_TIMING.tagTtlMs + 1, [], [7])],
    ]);
    const { matches, expired } = matchesFrom(values, heartbeats, "me", NOW);
    assert.deepEqual(
      matches.map((m) => [m.member.id, m.live.map((r) => r.id), m.recent.map((r) => r.id)]),
      [["a", [1], [2]], ["b", [], [4]]],
      "b's heartbeat is stale: its connection 3 is not claimed live; c has nothing else; this member is local",
    );
    assert.deepEqual(matches[0].member, fresh, "a fresh member as its heartbeat says");
    assert.deepEqual(expired, ["old"]);
  });

  test("a value stays under its size bound by dropping its oldest records", () => {
    const big = "x".repeat(1000);
    const tagValue: TagValue = {
      member: fresh,
      at: NOW,
      live: Array.from({ length: 10 }, (_, id) => ({ id, big })),
      recent: Array.from({ length: 10 }, (_, id) => ({ id: 100 + id, big })),
    };
    const json = boundedValue(tagValue, 8000);
    assert.ok(utf8Length(json) <= 8000, `${utf8Length(json)} bytes`);
    const kept = JSON.parse(json) as TagValue;
    assert.deepEqual(kept.live.map((r) => r.id), [6, 7, 8, 9], "the newest live ones");
    assert.deepEqual(kept.recent.map((r) => r.id), [107, 108, 109], "the newest closed ones");
  });
});
