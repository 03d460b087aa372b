/**
 * `npm test`'s runner (scripts/test.ts) reads each test runner's report to count and show failures: it
 * must never count a failure as a pass, nor lose a failure's details. Checked on reports as Deno 2.9 and
 * Bun 1.4 print them.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bunCounts, bunFailures, denoCounts, denoFailures } from "../scripts/test.ts";

const DENO = `Check tests/zz_fake_test.ts
running 4 tests from ./tests/zz_fake_test.ts
group A ...
  passes ... ok (0ms)
  prints then passes ...
------- output -------
hello
foo ... ok
----- output end -----
  prints then passes ... ok (1ms)
  fails ... FAILED (2ms)
  inner ...
    deep fail ... FAILED (1ms)
    deep pass ... ok (0ms)
  inner ... FAILED (due to 1 failed step) (2ms)
group A ... FAILED (due to 2 failed steps) (13ms)
hook fails ... FAILED (1ms)
top-level pass ... ok (286µs)
skipped one ... ignored (0ms)

 ERRORS 

group A ... fails => ext:deno_node/testing.ts:1:21231
error: AssertionError: one is not two

1 !== 2
    at NodeTestContext.<anonymous> (file:///tmp/echo/tests/zz_fake_test.ts:6:32)

hook fails => ./tests/zz_fake_test.ts:12:1
error: Error: hook boom
    at file:///tmp/echo/tests/zz_fake_test.ts:13:24

 FAILURES 

group A ... fails => ext:deno_node/testing.ts:1:21231
hook fails => ./tests/zz_fake_test.ts:12:1

FAILED | 1 passed (3 steps) | 2 failed (3 steps) | 1 ignored (22ms)

error: Test failed
`;

const BUN = `bun test v1.4.5 (a7733435c)

tests/zz_fake_test.ts:
(pass) group A > passes [2.09ms]
hello
(pass) group A > prints then passes [0.16ms]
6 |   test("fails", () => { assert.equal(1, 2, "one is not two"); });
                                   ^
AssertionError: one is not two
      at /tmp/echo/tests/zz_fake_test.ts:6:32
(fail) group A > fails [4.98ms]
(pass) group A > inner > deep pass [0.09ms]

# Unhandled error between tests
-------------------------------
13 |   before(() => { throw new Error("hook boom"); });
error: hook boom
      at <anonymous> (/tmp/echo/tests/zz_fake_test.ts:13:28)
-------------------------------

(pass) hook fails > never [0.14ms]
(skip) skipped one

 4 pass
 1 skip
 1 fail
 1 error
Ran 7 tests across 1 file. [81.00ms]
`;

describe("npm test's runner", () => {
  test("counts Deno's tests as Bun does: each test without steps, a describe() not counted", () => {
    assert.deepEqual(denoCounts(DENO, 1), { passed: 4, failed: 3, skipped: 1 });
  });

  test("shows Deno's failures with their errors, and nothing of the passing tests", () => {
    const shown = denoFailures(DENO);
    assert.match(shown, /one is not two[\s\S]*zz_fake_test\.ts:6:32/);
    assert.match(shown, /hook boom/);
    assert.doesNotMatch(shown, /passes|FAILED \|/);
  });

  test("counts Bun's tests from its closing lines, an error outside any test as a failure", () => {
    assert.deepEqual(bunCounts(BUN, 1), { passed: 4, failed: 2, skipped: 1 });
  });

  test("shows each of Bun's failures with what it printed about it, and errors between tests", () => {
    const shown = bunFailures(BUN);
    assert.match(shown, /AssertionError: one is not two\n.*zz_fake_test\.ts:6:32\n\(fail\) group A > fails/);
    assert.match(shown, /# Unhandled error between tests[\s\S]*hook boom[\s\S]*-{10,}$/);
    assert.doesNotMatch(shown, /hello|\(pass\)/);
  });

  test("a runner that failed without a failed test (a file that did not load) counts one failure", () => {
    assert.equal(denoCounts("error: Module not found\n", 1).failed, 1);
    assert.equal(bunCounts("error: Cannot find module\n", 1).failed, 1);
    assert.deepEqual(denoCounts("ok | 0 passed | 0 failed (0ms)\n", 0), { passed: 0, failed: 0, skipped: 0 });
  });
});
