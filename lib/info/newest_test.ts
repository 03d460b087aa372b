import { test } from "node:test";
import assert from "node:assert/strict";
import { newest } from "./newest.ts";

const all = { before: Infinity, key: (n: number) => n, match: () => true };

/** A fixed shuffle of 1..n (a linear congruential order, so that failures reproduce). */
function shuffled(n: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i + 1);
  let seed = 7;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

test("newest picks the largest keys, largest first, from items in any order", () => {
  const page = newest(shuffled(1000), { ...all, limit: 5 });
  assert.deepEqual(page.items, [1000, 999, 998, 997, 996]);
  assert.equal(page.matched, 1000);
  assert.equal(page.more, true);
});

test("newest pages with before: consecutive pages cover every item once", () => {
  const items = shuffled(103);
  const seen: number[] = [];
  let before = Infinity;
  for (;;) {
    const page = newest(items, { ...all, limit: 10, before });
    seen.push(...page.items);
    if (!page.more) break;
    before = page.items.at(-1)!;
  }
  assert.deepEqual(seen, Array.from({ length: 103 }, (_, i) => 103 - i));
});

test("newest counts every match but pages only the matches below before", () => {
  const page = newest(shuffled(50), { limit: 3, before: 20, key: (n) => n, match: (n) => n % 2 === 0 });
  assert.deepEqual(page.items, [18, 16, 14]);
  assert.equal(page.matched, 25);
  assert.equal(page.more, true);
});

test("newest with fewer items than the limit returns them all and no more", () => {
  assert.deepEqual(newest([3, 1, 2], { ...all, limit: 10 }), { items: [3, 2, 1], matched: 3, more: false });
  assert.deepEqual(newest([], { ...all, limit: 10 }), { items: [], matched: 0, more: false });
});

test("newest with limit 0 returns no items and says whether any are left", () => {
  assert.deepEqual(newest([1, 2], { ...all, limit: 0 }), { items: [], matched: 2, more: true });
});
