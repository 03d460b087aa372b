import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ChannelFleet, type FleetAnswers, type LocalMatch } from "./channel.ts";

/** A member answering from a fixed table of tags, on its own real BroadcastChannel named `name`. */
function member(name: string, id: string, tags: Record<string, LocalMatch> = {}, options = {}) {
  const answers: FleetAnswers = {
    self: () => ({ id, pid: 1, live: Object.values(tags).reduce((n, m) => n + m.live.length, 0) }),
    find: (tag) => Promise.resolve(tags[tag] ?? { live: [], recent: [] }),
  };
  return new ChannelFleet(new BroadcastChannel(name), answers, options);
}

/** Resolves once `fleet` knows `count` other members (they announce themselves at start). */
async function knowing(fleet: ChannelFleet, count: number): Promise<void> {
  for (let i = 0; i < 200 && (await fleet.members()).length < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("ChannelFleet over two real BroadcastChannels", () => {
  test("a lookup finds the live and recent connections another member holds, and says which member", async () => {
    const name = `fleet-test-${crypto.randomUUID()}`;
    const a = member(name, "aaaa");
    const b = member(name, "bbbb", { t1: { live: [{ id: 7, tag: "t1" }], recent: [{ id: 3, tag: "t1" }] } });
    try {
      await knowing(a, 1);
      const matches = await a.lookup("t1");
      assert.equal(matches.length, 1);
      assert.equal(matches[0].member.id, "bbbb");
      assert.deepEqual(matches[0].live, [{ id: 7, tag: "t1" }]);
      assert.deepEqual(matches[0].recent, [{ id: 3, tag: "t1" }]);
      assert.deepEqual(await b.lookup("t1"), [], "a member does not answer itself");
    } finally {
      a.close();
      b.close();
    }
  });

  test("an unknown tag settles once every known member said no, well before the wait", async () => {
    const name = `fleet-test-${crypto.randomUUID()}`;
    const a = member(name, "aaaa", {}, { waitMs: 60_000 });
    const b = member(name, "bbbb");
    try {
      await knowing(a, 1);
      // With a 60 s wait, settling at all proves it stopped on the answers, not the timer.
      assert.deepEqual(await a.lookup("nobody"), []);
    } finally {
      a.close();
      b.close();
    }
  });

  test("a member that never answers costs one bounded wait, never a hang", async () => {
    const name = `fleet-test-${crypto.randomUUID()}`;
    const a = member(name, "aaaa", {}, { waitMs: 100 });
    // A channel that announces a member, then stays silent.
    const silent = new BroadcastChannel(name);
    silent.postMessage({
      kind: "hello",
      member: { id: "mute", pid: 2, live: 0, seenAt: Date.now() },
      reply: false,
    });
    try {
      for (let i = 0; i < 200 && !(await a.members()).some((m) => m.id === "mute"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(await a.lookup("t"), []);
    } finally {
      a.close();
      silent.close();
    }
  });

  test("members() lists the others with their live counts; a closed member says goodbye", async () => {
    const name = `fleet-test-${crypto.randomUUID()}`;
    const a = member(name, "aaaa");
    const b = member(name, "bbbb", { x: { live: [{ id: 1 }, { id: 2 }], recent: [] } });
    try {
      await knowing(a, 1);
      const [only] = await a.members();
      assert.deepEqual([only.id, only.pid, only.live], ["bbbb", 1, 2]);
      b.close();
      for (let i = 0; i < 200 && (await a.members()).length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.deepEqual(await a.members(), []);
      assert.equal(b.status().available, false);
      assert.deepEqual(await b.lookup("x"), [], "a closed source answers nothing, at once");
    } finally {
      a.close();
      b.close();
    }
  });
});
