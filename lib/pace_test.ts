import { test } from "node:test";
import assert from "node:assert/strict";
import { Pace } from "./pace.ts";

test("the first turn is at once; the next ones wait for their slot, in order", async () => {
  let clock = 1000;
  const pace = new Pace(50, 10, () => clock);
  const order: number[] = [];
  assert.equal(pace.turn(), "now");
  const second = (pace.turn() as Promise<void>).then(() => order.push(2));
  const third = (pace.turn() as Promise<void>).then(() => order.push(3));
  assert.equal(pace.waiting, 2);
  await Promise.all([third, second]);
  assert.deepEqual(order, [2, 3]);
  assert.equal(pace.waiting, 0);
  clock += 1000;
  assert.equal(pace.turn(), "now", "a turn long after the last one is at once");
});

test("a caller beyond maxWaiting is refused instead of queued", async () => {
  const clock = 0;
  const pace = new Pace(30, 2, () => clock);
  assert.equal(pace.turn(), "now");
  const waiting = [pace.turn(), pace.turn()];
  assert.ok(waiting.every((turn) => turn !== null));
  assert.equal(pace.turn(), null);
  assert.equal(pace.waiting, 2);
  await Promise.all(waiting);
  assert.equal(pace.waiting, 0);
});
