import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  checkKnobs,
  isSendableCloseCode,
  type KnobError,
  type KnobOptions,
  type Knobs,
  parseKnobs,
} from "./knobs.ts";

const ON: KnobOptions = { enabled: true };

function knobs(query: string, options: KnobOptions = ON): Knobs {
  const result = parseKnobs(new URLSearchParams(query), options);
  assert.ok(!("message" in result), `expected knobs for ${query}, got ${JSON.stringify(result)}`);
  return result;
}

function error(query: string, options: KnobOptions = ON): KnobError {
  const result = parseKnobs(new URLSearchParams(query), options);
  assert.ok("message" in result, `expected an error for ${query}, got ${JSON.stringify(result)}`);
  return result;
}

describe("parseKnobs", () => {
  test("a URL without knobs is a plain echo, whatever its tag", () => {
    assert.deepEqual(knobs(""), {});
    assert.deepEqual(knobs("tag=mine"), {});
  });

  test("reads every knob at its bounds", () => {
    assert.deepEqual(knobs("delay=0"), { delayMs: 0 });
    assert.deepEqual(knobs("delay=10000"), { delayMs: 10000 });
    assert.deepEqual(knobs("status=400"), { status: 400 });
    assert.deepEqual(knobs("status=599"), { status: 599 });
    assert.deepEqual(knobs("ping_ms=100"), { pingMs: 100 });
    assert.deepEqual(knobs("drop_after=0"), { dropAfter: 0 });
    assert.deepEqual(knobs("compress=0"), { compress: false });
    assert.deepEqual(knobs("compress=1"), { compress: true });
    assert.deepEqual(knobs("protocol=none"), { protocol: "" });
    assert.deepEqual(knobs("protocol=v2.chat"), { protocol: "v2.chat" });
  });

  test("close defaults to closing at open with no reason; after and after_ms set when", () => {
    assert.deepEqual(knobs("close=1000"), { close: { code: 1000, reason: "", after: 0 } });
    assert.deepEqual(knobs("close=4000&after=3&reason=bye+now"), {
      close: { code: 4000, reason: "bye now", after: 3 },
    });
    assert.deepEqual(knobs("close=1012&after_ms=250"), { close: { code: 1012, reason: "", afterMs: 250 } });
  });

  test("out of range, malformed or signed numbers name their parameter", () => {
    for (
      const [query, parameter] of [
        ["delay=10001", "delay"],
        ["delay=-1", "delay"],
        ["delay=1.5", "delay"],
        ["delay=", "delay"],
        ["delay=+5", "delay"],
        ["delay=1e3", "delay"],
        ["status=399", "status"],
        ["status=600", "status"],
        ["ping_ms=99", "ping_ms"],
        ["drop_after=99999999", "drop_after"],
        ["close=1000&after_ms=600001", "after_ms"],
        ["compress=yes", "compress"],
        ["protocol=a b", "protocol"],
        ["protocol=", "protocol"],
        ["protocol=" + "p".repeat(65), "protocol"],
      ]
    ) {
      const result = error(query);
      assert.equal(result.status, 400, query);
      assert.equal(result.parameter, parameter, query);
    }
  });

  test("only close codes a server may send are accepted", () => {
    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 1012, 1013, 1014, 3000, 4999]) {
      assert.ok(isSendableCloseCode(code), String(code));
      assert.equal(knobs(`close=${code}`).close?.code, code);
    }
    for (const code of [0, 999, 1004, 1005, 1006, 1010, 1015, 1016, 2999, 5000]) {
      assert.ok(!isSendableCloseCode(code), String(code));
      assert.equal(error(`close=${code}`).parameter, "close");
    }
    assert.equal(error("close=01000").parameter, "close");
  });

  test("the reason is at most 123 bytes of UTF-8, counted in bytes", () => {
    assert.equal(knobs(`close=1000&reason=${"a".repeat(123)}`).close?.reason.length, 123);
    assert.equal(error(`close=1000&reason=${"a".repeat(124)}`).parameter, "reason");
    // 62 two-byte characters are 124 bytes though only 62 UTF-16 units.
    assert.equal(error(`close=1000&reason=${encodeURIComponent("é".repeat(62))}`).parameter, "reason");
  });

  test("after, after_ms and reason need close; after and after_ms exclude each other", () => {
    assert.equal(error("after=3").parameter, "after");
    assert.equal(error("after_ms=3").parameter, "after_ms");
    assert.equal(error("reason=x").parameter, "reason");
    assert.equal(error("close=1000&after=1&after_ms=1").parameter, "after_ms");
  });

  test("other parameters are ignored: a URL with any query still upgrades", () => {
    assert.deepEqual(knobs("client=conformance&n=1&token=abc&region=eu&v=2"), {});
  });

  test("a near miss of a knob's name is refused, naming the knob meant", () => {
    for (
      const [query, meant] of [
        ["dealy=200", "delay"],
        ["dely=200", "delay"],
        ["delays=200", "delay"],
        ["Delay=200", "delay"],
        ["ping-ms=100", "ping_ms"],
        ["pingms=100", "ping_ms"],
        ["drop-after=1", "drop_after"],
        ["protocl=x", "protocol"],
        ["close=1000&aftr=1", "after"],
      ]
    ) {
      const result = error(query);
      assert.equal(result.status, 400, query);
      assert.match(result.message, new RegExp(`did you mean ${meant}\\?`), query);
    }
    assert.deepEqual(knobs("dealy=200", { enabled: false }), {}, "no knobs, no near misses");
  });

  test("a repeated knob is refused", () => {
    assert.equal(error("delay=1&delay=2").parameter, "delay");
  });

  test("KNOBS=off refuses knobs with 403 and ignores other parameters", () => {
    const off = { enabled: false };
    const refused = error("tag=x&delay=200", off);
    assert.equal(refused.status, 403);
    assert.equal(refused.parameter, "delay");
    assert.match(refused.message, /KNOBS=off/);
    assert.deepEqual(knobs("tag=x&token=abc", off), {});
  });

  test("a knob the runtime cannot offer is refused with 501 and the runtime's reason", () => {
    const options = { enabled: true, unsupported: { ping_ms: "no ping API here" } };
    assert.deepEqual(error("ping_ms=500", options), {
      status: 501,
      parameter: "ping_ms",
      message: "no ping API here",
    });
    assert.deepEqual(knobs("delay=5", options), { delayMs: 5 });
  });
});

describe("checkKnobs", () => {
  const params = (query: string) => new URLSearchParams(query);

  test("an invalid knob is a one-line 400 naming the parameter, counted as knob", async () => {
    const result = checkKnobs(params("delay=99999"), ON);
    assert.ok(!result.ok);
    assert.equal(result.reason, "knob");
    assert.equal(result.response.status, 400);
    assert.equal(
      await result.response.text(),
      "query parameter delay: expected a whole number from 0 to 10000\n",
    );
  });

  test("a near miss is quoted, since it is not one of the knob names", async () => {
    const result = checkKnobs(params("Delay=1"), ON);
    assert.ok(!result.ok);
    const text = await result.response.text();
    assert.ok(text.startsWith(`query parameter "Delay": not a knob; did you mean delay?`), text);
  });

  test("status= refuses with that status, counted apart from invalid knobs", async () => {
    const result = checkKnobs(params("status=503&delay=10"), ON);
    assert.ok(!result.ok);
    assert.equal(result.reason, "knob_status");
    assert.equal(result.response.status, 503);
    assert.match(await result.response.text(), /as asked by status=/);
  });

  test("valid knobs pass through", () => {
    assert.deepEqual(checkKnobs(params("tag=t&delay=10"), ON), { ok: true, knobs: { delayMs: 10 } });
  });
});
