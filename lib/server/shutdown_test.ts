import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { REPEATED_SIGNAL_MS, shutDown } from "./shutdown.ts";
import type { Config } from "../config.ts";
import type { Context } from "../context.ts";
import type { LiveSession } from "../hub.ts";
import { testConnection, testContext } from "../testing_context.ts";

/** Thrown by the fake exit so that `never` holds and the code can be read back. */
class Exited {
  constructor(readonly code: number) {}
}

function exit(code: number): never {
  throw new Exited(code);
}

/** A session that records the closes it was asked for and leaves the hub when told. */
class FakeSession implements LiveSession {
  readonly connection = testConnection();
  hubSlot = -1;
  closes: Array<[number, string]> = [];
  constructor(private leave: (session: FakeSession) => void) {}
  close(code: number, reason: string): void {
    this.closes.push([code, reason]);
    this.leave(this);
  }
  keepalive(): void {}
}

interface Shutdown {
  context: Context;
  logged: Array<Record<string, unknown>>;
  steps: string[];
  sessions: FakeSession[];
  /** What shutDown reads as the time, ms. */
  clock: number;
}

/**
 * A context with `count` sessions. `leave` decides when a session leaves the hub after its close:
 * at once, later (after a timer), or never.
 */
function shutdownHarness(
  count: number,
  leave: "now" | "later" | "never",
  config: Partial<Config> = {},
): Shutdown {
  const { context, events: logged } = testContext(config);
  const steps: string[] = [];
  const sessions: FakeSession[] = [];
  for (let i = 0; i < count; i++) {
    const session = new FakeSession((m) => {
      steps.push(`close ${sessions.indexOf(m)}`);
      if (leave === "now") context.hub.remove(m);
      if (leave === "later") setTimeout(() => context.hub.remove(m), 20);
    });
    sessions.push(session);
    context.hub.add(session);
  }
  return { context, logged, steps, sessions, clock: 0 };
}

/** Runs shutDown with recording stopListening and exit; resolves with the exit code. */
async function runShutDown(
  h: Shutdown,
  stopListening: () => Promise<void> | void = () => {},
  lingering?: () => number,
): Promise<number> {
  try {
    await shutDown(h.context, {
      lingering,
      now: () => h.clock,
      stopListening: () => {
        h.steps.push(`stop listening (${h.context.hub.sessions.length} left)`);
        return stopListening();
      },
      exit: (code) => {
        h.steps.push(`exit ${code}`);
        return exit(code);
      },
    });
  } catch (error) {
    if (error instanceof Exited) return error.code;
    throw error;
  }
  assert.fail("shutDown returned without exiting");
}

describe("shutDown", () => {
  test('closes every session with 1001 "server shutting down", waits, stops listening and exits 0', async () => {
    const h = shutdownHarness(3, "later");
    const code = await runShutDown(h);
    assert.equal(code, 0);
    for (const session of h.sessions) assert.deepEqual(session.closes, [[1001, "server shutting down"]]);
    assert.deepEqual(h.steps, ["close 0", "close 1", "close 2", "stop listening (0 left)", "exit 0"]);
    assert.equal(h.context.hub.draining, true, "new upgrades are refused from the start");
  });

  test("logs the start and a clean end", async () => {
    const h = shutdownHarness(2, "later", { shutdownGraceSeconds: 7 });
    await runShutDown(h);
    assert.deepEqual(h.logged.map((e) => [e.level, e.event]), [["info", "shutdown"], [
      "info",
      "shutdown complete",
    ]]);
    assert.equal(h.logged[0].live, 2);
    assert.equal(h.logged[0].graceSeconds, 7);
    assert.equal(h.logged[1].left, 0);
  });

  test("sessions that leave at once are not waited for", async () => {
    const h = shutdownHarness(2, "now");
    assert.equal(await runShutDown(h), 0);
    assert.deepEqual(h.steps, ["close 0", "close 1", "stop listening (0 left)", "exit 0"]);
  });

  test("with no sessions it stops listening and exits 0", async () => {
    const h = shutdownHarness(0, "now");
    assert.equal(await runShutDown(h), 0);
    assert.deepEqual(h.steps, ["stop listening (0 left)", "exit 0"]);
  });

  test("gives up on sessions that never leave after the grace period, warns, and still exits 0", async () => {
    const h = shutdownHarness(2, "never", { shutdownGraceSeconds: 0 });
    assert.equal(await runShutDown(h), 0);
    assert.deepEqual(h.steps, ["close 0", "close 1", "stop listening (2 left)", "exit 0"]);
    const end = h.logged.find((e) => e.event === "shutdown complete");
    assert.equal(end?.level, "warn");
    assert.equal(end?.left, 2);
  });

  test("waits for an asynchronous stopListening before exiting", async () => {
    const h = shutdownHarness(1, "now");
    let stopped = false;
    await runShutDown(h, () =>
      new Promise((resolve) =>
        setTimeout(() => {
          stopped = true;
          h.steps.push("listener closed");
          resolve();
        }, 20)
      ));
    assert.ok(stopped);
    assert.deepEqual(h.steps, ["close 0", "stop listening (0 left)", "listener closed", "exit 0"]);
  });

  test("waits for connections the runtime still holds after reporting them closed, with the listener open", async () => {
    // Bun: the session leaves at once, but the client has not answered the close yet.
    const h = shutdownHarness(2, "now", { shutdownGraceSeconds: 5 });
    let held = 2;
    setTimeout(() => held = 1, 150);
    setTimeout(() => {
      h.steps.push("answered");
      held = 0;
    }, 300);
    const start = Date.now();
    assert.equal(await runShutDown(h, undefined, () => held), 0);
    assert.ok(Date.now() - start >= 300, `exited after ${Date.now() - start} ms, before the answers`);
    assert.deepEqual(h.steps, ["close 0", "close 1", "answered", "stop listening (0 left)", "exit 0"]);
    assert.equal(h.logged.find((e) => e.event === "shutdown complete")?.level, "info");
  });

  test("gives up on held connections at the end of the grace period, warns with their count, exits 0", async () => {
    const h = shutdownHarness(1, "now", { shutdownGraceSeconds: 0.3 });
    const start = Date.now();
    assert.equal(await runShutDown(h, undefined, () => 1), 0);
    const took = Date.now() - start;
    assert.ok(took >= 290 && took < 1500, `exited after ${took} ms, at the grace period's end`);
    const end = h.logged.find((e) => e.event === "shutdown complete");
    assert.equal(end?.level, "warn");
    assert.equal(end?.left, 1);
  });

  test("a second signal while draining exits 0 at once without closing again", async () => {
    const h = shutdownHarness(1, "never", { shutdownGraceSeconds: 600 });
    let first: Promise<number> | undefined;
    try {
      first = runShutDown(h);
      assert.deepEqual(h.sessions[0].closes, [[1001, "server shutting down"]]);
      h.clock += REPEATED_SIGNAL_MS;
      assert.equal(await runShutDown(h), 0);
      assert.deepEqual(h.steps, ["close 0", "exit 0"]);
      assert.equal(h.sessions[0].closes.length, 1);
    } finally {
      // Let the first shutdown finish instead of leaving its grace timer behind.
      h.context.hub.remove(h.sessions[0]);
      await first;
    }
  });

  test("the same signal twice at once (Ctrl-C on npm start: the terminal's, then npm's) is one drain", async () => {
    const h = shutdownHarness(1, "never", { shutdownGraceSeconds: 600 });
    const first = runShutDown(h);
    h.clock += REPEATED_SIGNAL_MS - 1;
    let repeatEnded = false;
    void runShutDown(h).then(() => repeatEnded = true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(repeatEnded, false, "the repeat neither exits nor ends");
    assert.deepEqual(h.steps, ["close 0"], "no exit: the drain goes on");
    assert.equal(h.sessions[0].closes.length, 1);
    // The drain ends as it would have: once the client has left, exit 0.
    h.context.hub.remove(h.sessions[0]);
    assert.equal(await first, 0);
    assert.deepEqual(h.steps, ["close 0", "stop listening (0 left)", "exit 0"]);
  });
});
