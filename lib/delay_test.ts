import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { DelayLine, ITEM_OVERHEAD_BYTES } from "./delay.ts";

describe("DelayLine", () => {
  test("releases items in order, none before its delay", async () => {
    const released: Array<[string, number]> = [];
    const pushedAt = new Map<string, number>();
    const line = new DelayLine<string>(40, (item) => released.push([item, performance.now()]));
    for (const item of ["a", "b", "c"]) {
      pushedAt.set(item, performance.now());
      line.push(item, 1);
      await sleep(5);
    }
    while (released.length < 3) await sleep(10);
    assert.deepEqual(released.map(([item]) => item), ["a", "b", "c"]);
    for (const [item, at] of released) assert.ok(at - pushedAt.get(item)! >= 40, `${item} early`);
    assert.equal(line.length, 0);
    assert.equal(line.pendingBytes, 0);
  });

  test("counts waiting bytes with a per-item overhead, so empty items are bounded too", () => {
    const line = new DelayLine<string>(10_000, () => assert.fail("released"));
    line.push("", 0);
    line.push("abc", 3);
    assert.equal(line.length, 2);
    assert.equal(line.pendingBytes, 3 + 2 * ITEM_OVERHEAD_BYTES);
    line.clear();
    assert.equal(line.length, 0);
    assert.equal(line.pendingBytes, 0);
  });

  test("clear() from inside delivery stops the rest", async () => {
    const released: string[] = [];
    const line: DelayLine<string> = new DelayLine<string>(1, (item) => {
      released.push(item);
      line.clear();
    });
    line.push("a", 1);
    line.push("b", 1);
    await sleep(30);
    assert.deepEqual(released, ["a"]);
  });

  test("uses one timer for any number of waiting items", async () => {
    const original = globalThis.setTimeout;
    let timers = 0;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      timers++;
      return original(...args);
    }) as typeof setTimeout;
    let released = 0;
    try {
      const line = new DelayLine<number>(20, () => released++);
      for (let i = 0; i < 100; i++) line.push(i, 1);
      assert.equal(timers, 1);
    } finally {
      globalThis.setTimeout = original;
    }
    while (released < 100) await sleep(10);
  });
});
