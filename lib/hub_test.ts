import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Hub, type LiveSession } from "./hub.ts";
import { testConnection } from "./testing_context.ts";

/** A session that records what the hub asked of it. */
class FakeSession implements LiveSession {
  readonly connection = testConnection();
  hubSlot = -1;
  closes: Array<[number, string]> = [];
  sweeps: Array<[number, number]> = [];
  close(code: number, reason: string): void {
    this.closes.push([code, reason]);
  }
  keepalive(now: number, idleMs: number): void {
    this.sweeps.push([now, idleMs]);
  }
}

/** Polls until `done` holds, failing after a generous deadline rather than timing anything. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("Hub", () => {
  test("starts empty and accepting", () => {
    const hub = new Hub();
    assert.equal(hub.sessions.length, 0);
    assert.equal(hub.draining, false);
  });

  test("add and remove track the sessions; removing twice or a stranger is harmless", () => {
    const hub = new Hub<FakeSession>();
    const a = new FakeSession();
    const b = new FakeSession();
    hub.add(a);
    hub.add(b);
    hub.add(a);
    assert.deepEqual([...hub.sessions], [a, b]);
    hub.remove(a);
    hub.remove(a);
    hub.remove(new FakeSession());
    assert.deepEqual([...hub.sessions], [b]);
  });

  test("sessions taken out of the middle leave every other session in, once", () => {
    const hub = new Hub<FakeSession>();
    const sessions = Array.from({ length: 6 }, () => new FakeSession());
    for (const m of sessions) hub.add(m);
    for (const index of [1, 4, 0]) assert.equal(hub.remove(sessions[index]), true);
    const left = [sessions[2], sessions[3], sessions[5]];
    assert.deepEqual(new Set(hub.sessions), new Set(left));
    assert.equal(hub.sessions.length, 3);
    for (const m of left) assert.equal(hub.remove(m), true, "each one still found");
    assert.equal(hub.sessions.length, 0);
    for (const m of sessions) assert.equal(m.hubSlot, -1);
    hub.add(sessions[4]);
    assert.deepEqual([...hub.sessions], [sessions[4]], "a session can come back");
  });

  test("connections lists each live session's record, as a snapshot the hub does not change", () => {
    const hub = new Hub<FakeSession>();
    const [a, b] = [new FakeSession(), new FakeSession()];
    hub.add(a);
    hub.add(b);
    const listed = hub.connections();
    assert.deepEqual(listed, [a.connection, b.connection]);
    hub.remove(a);
    assert.deepEqual(hub.connections(), [b.connection]);
    assert.equal(listed.length, 2, "an earlier list keeps what it held");
  });

  test("closeAll sends every session the code and reason once", () => {
    const hub = new Hub<FakeSession>();
    const sessions = [new FakeSession(), new FakeSession(), new FakeSession()];
    for (const m of sessions) hub.add(m);
    hub.closeAll(1001, "server shutting down");
    for (const m of sessions) assert.deepEqual(m.closes, [[1001, "server shutting down"]]);
  });

  test("closeAll reaches every session even when closing removes them from the hub", () => {
    const hub = new Hub<FakeSession>();
    const sessions = [new FakeSession(), new FakeSession(), new FakeSession()];
    for (const m of sessions) {
      m.close = (code, reason) => {
        m.closes.push([code, reason]);
        hub.remove(m);
      };
      hub.add(m);
    }
    hub.closeAll(1001, "bye");
    assert.deepEqual(sessions.map((m) => m.closes.length), [1, 1, 1]);
    assert.equal(hub.sessions.length, 0);
  });

  test("whenEmpty resolves true at once for an empty hub", async () => {
    assert.equal(await new Hub().whenEmpty(60_000), true);
  });

  test("whenEmpty resolves true when the last session leaves, not before", async () => {
    const hub = new Hub<FakeSession>();
    const a = new FakeSession();
    const b = new FakeSession();
    hub.add(a);
    hub.add(b);
    let result: boolean | undefined;
    const waiting = hub.whenEmpty(60_000).then((value) => (result = value));
    hub.remove(a);
    await sleep(10);
    assert.equal(result, undefined, "one session is still there");
    hub.remove(b);
    assert.equal(await waiting, true);
  });

  test("every waiter is told", async () => {
    const hub = new Hub<FakeSession>();
    const a = new FakeSession();
    hub.add(a);
    const waiters = [hub.whenEmpty(60_000), hub.whenEmpty(60_000)];
    hub.remove(a);
    assert.deepEqual(await Promise.all(waiters), [true, true]);
  });

  test("whenEmpty resolves false after the timeout when sessions stay", async () => {
    const hub = new Hub<FakeSession>();
    hub.add(new FakeSession());
    assert.equal(await hub.whenEmpty(20), false);
    assert.equal(hub.sessions.length, 1);
  });

  test("startKeepalive sweeps every session with the clock's time and idleMs, until stopped", async () => {
    const hub = new Hub<FakeSession>();
    const a = new FakeSession();
    const b = new FakeSession();
    hub.add(a);
    hub.add(b);
    const stop = hub.startKeepalive(2_000, { now: () => 12_345 });
    try {
      await until(() => a.sweeps.length >= 2 && b.sweeps.length >= 2, "two sweeps");
    } finally {
      stop();
    }
    assert.deepEqual(a.sweeps[0], [12_345, 2_000]);
    assert.deepEqual(b.sweeps[0], [12_345, 2_000]);
    const swept = a.sweeps.length;
    await sleep(600);
    assert.equal(a.sweeps.length, swept, "no sweep after stop");
  });

  test("a sweep reaches every session even when one leaves the hub during it", async () => {
    const hub = new Hub<FakeSession>();
    const sessions = [new FakeSession(), new FakeSession(), new FakeSession()];
    // The first swept session leaves at once, as a session whose keepalive terminates it may.
    sessions[0].keepalive = function (now, idleMs) {
      this.sweeps.push([now, idleMs]);
      hub.remove(this);
    };
    for (const m of sessions) hub.add(m);
    // The clock is read once per sweep, so it numbers the sweeps.
    let sweep = 0;
    const stop = hub.startKeepalive(1_000, { now: () => ++sweep });
    try {
      await until(() => sessions[0].sweeps.length >= 1, "a sweep");
    } finally {
      stop();
    }
    for (const m of sessions) assert.deepEqual(m.sweeps[0], [1, 1_000], "swept by the first sweep");
    assert.deepEqual(new Set(hub.sessions), new Set(sessions.slice(1)));
  });

  test("startKeepalive skips sessions that left", async () => {
    const hub = new Hub<FakeSession>();
    const stays = new FakeSession();
    const leaves = new FakeSession();
    hub.add(stays);
    hub.add(leaves);
    hub.remove(leaves);
    const stop = hub.startKeepalive(1_000);
    try {
      await until(() => stays.sweeps.length >= 1, "a sweep");
    } finally {
      stop();
    }
    assert.equal(leaves.sweeps.length, 0);
    const [now] = stays.sweeps[0];
    assert.ok(Math.abs(now - Date.now()) < 60_000, "defaults to the wall clock");
  });
});
