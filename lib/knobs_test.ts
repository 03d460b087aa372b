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
    assert.deepEqual(knobs("echo_delay=0"), { delayMs: 0 });
    assert.deepEqual(knobs("echo_delay=10000"), { delayMs: 10000 });
    assert.deepEqual(knobs("echo_status=400"), { status: 400 });
    assert.deepEqual(knobs("echo_status=599"), { status: 599 });
    assert.deepEqual(knobs("echo_ping_ms=100"), { pingMs: 100 });
    assert.deepEqual(knobs("echo_drop_after=0"), { dropAfter: 0 });
    assert.deepEqual(knobs("echo_compress=0"), { compress: false });
    assert.deepEqual(knobs("echo_compress=1"), { compress: true });
    assert.deepEqual(knobs("echo_protocol=none"), { protocol: "" });
    assert.deepEqual(knobs("echo_protocol=v2.chat"), { protocol: "v2.chat" });
  });

  test("close defaults to closing at open with no reason; after and after_ms set when", () => {
    assert.deepEqual(knobs("echo_close=1000"), { close: { code: 1000, reason: "", after: 0 } });
    assert.deepEqual(knobs("echo_close=4000&echo_after=3&echo_reason=bye+now"), {
      close: { code: 4000, reason: "bye now", after: 3 },
    });
    assert.deepEqual(knobs("echo_close=1012&echo_after_ms=250"), {
      close: { code: 1012, reason: "", afterMs: 250 },
    });
  });

  test("out of range, malformed or signed numbers name their parameter", () => {
    for (
      const [query, parameter] of [
        ["echo_delay=10001", "echo_delay"],
        ["echo_delay=-1", "echo_delay"],
        ["echo_delay=1.5", "echo_delay"],
        ["echo_delay=", "echo_delay"],
        ["echo_delay=+5", "echo_delay"],
        ["echo_delay=1e3", "echo_delay"],
        ["echo_status=399", "echo_status"],
        ["echo_status=600", "echo_status"],
        ["echo_ping_ms=99", "echo_ping_ms"],
        ["echo_drop_after=99999999", "echo_drop_after"],
        ["echo_close=1000&echo_after_ms=600001", "echo_after_ms"],
        ["echo_compress=yes", "echo_compress"],
        ["echo_protocol=a b", "echo_protocol"],
        ["echo_protocol=", "echo_protocol"],
        ["echo_protocol=" + "p".repeat(65), "echo_protocol"],
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
      assert.equal(knobs(`echo_close=${code}`).close?.code, code);
    }
    for (const code of [0, 999, 1004, 1005, 1006, 1010, 1015, 1016, 2999, 5000]) {
      assert.ok(!isSendableCloseCode(code), String(code));
      assert.equal(error(`echo_close=${code}`).parameter, "echo_close");
    }
    assert.equal(error("echo_close=01000").parameter, "echo_close");
  });

  test("the reason is at most 123 bytes of UTF-8, counted in bytes", () => {
    assert.equal(knobs(`echo_close=1000&echo_reason=${"a".repeat(123)}`).close?.reason.length, 123);
    assert.equal(error(`echo_close=1000&echo_reason=${"a".repeat(124)}`).parameter, "echo_reason");
    // 62 two-byte characters are 124 bytes though only 62 UTF-16 units.
    assert.equal(
      error(`echo_close=1000&echo_reason=${encodeURIComponent("é".repeat(62))}`).parameter,
      "echo_reason",
    );
  });

  test("after, after_ms and reason need close; after and after_ms exclude each other", () => {
    assert.equal(error("echo_after=3").parameter, "echo_after");
    assert.equal(error("echo_after_ms=3").parameter, "echo_after_ms");
    assert.equal(error("echo_reason=x").parameter, "echo_reason");
    assert.equal(error("echo_close=1000&echo_after=1&echo_after_ms=1").parameter, "echo_after_ms");
  });

  test("other parameters are ignored: a URL with any query still upgrades", () => {
    assert.deepEqual(knobs("client=conformance&n=1&token=abc&region=eu&v=2"), {});
  });

  test("parameters outside the namespace are the client's, whatever their names: never read, never refused", () => {
    for (
      const query of [
        "status=online&protocol=v2",
        "delay=soon&header=x&close=1&after=3",
        "dealy=200",
        "closer=1",
      ]
    ) {
      assert.deepEqual(knobs(query), {}, query);
    }
  });

  test("a near miss inside the namespace is refused, naming the knob meant", () => {
    for (
      const [query, meant] of [
        ["echo_dealy=200", "echo_delay"],
        ["echo_dely=200", "echo_delay"],
        ["echo_delays=200", "echo_delay"],
        ["Echo_Delay=200", "echo_delay"],
        ["echo-ping-ms=100", "echo_ping_ms"],
        ["echo_pingms=100", "echo_ping_ms"],
        ["echo-drop-after=1", "echo_drop_after"],
        ["echo_protocl=x", "echo_protocol"],
        ["echo_close=1000&echo_aftr=1", "echo_after"],
      ]
    ) {
      const result = error(query);
      assert.equal(result.status, 400, query);
      assert.match(result.message, new RegExp(`did you mean ${meant}\\?`), query);
    }
    assert.deepEqual(knobs("echo_dealy=200", { enabled: false }), {}, "no knobs, no near misses");
  });

  test("a repeated knob is refused", () => {
    assert.equal(error("echo_delay=1&echo_delay=2").parameter, "echo_delay");
  });

  test("KNOBS=off refuses knobs with 403 and ignores other parameters", () => {
    const off = { enabled: false };
    const refused = error("tag=x&echo_delay=200", off);
    assert.equal(refused.status, 403);
    assert.equal(refused.parameter, "echo_delay");
    assert.match(refused.message, /KNOBS=off/);
    assert.deepEqual(knobs("tag=x&token=abc", off), {});
  });

  test("a knob the runtime cannot offer is refused with 501 and the runtime's reason", () => {
    const options = { enabled: true, unsupported: { ping_ms: "no ping API here" } };
    assert.deepEqual(error("echo_ping_ms=500", options), {
      status: 501,
      parameter: "echo_ping_ms",
      message: "no ping API here",
    });
    assert.deepEqual(knobs("echo_delay=5", options), { delayMs: 5 });
  });
});

describe("checkKnobs", () => {
  const params = (query: string) => new URLSearchParams(query);

  test("an invalid knob is a one-line 400 naming the parameter, counted as knob", async () => {
    const result = checkKnobs(params("echo_delay=99999"), ON);
    assert.ok(!result.ok);
    assert.equal(result.reason, "knob");
    assert.equal(result.response.status, 400);
    assert.equal(
      await result.response.text(),
      "query parameter echo_delay: expected a whole number from 0 to 10000\n",
    );
  });

  test("a near miss is quoted, since it is not one of the knob names", async () => {
    const result = checkKnobs(params("Echo_Delay=1"), ON);
    assert.ok(!result.ok);
    const text = await result.response.text();
    assert.ok(text.startsWith(`query parameter "Echo_Delay": not a knob; did you mean echo_delay?`), text);
  });

  test("echo_status= refuses with that status, counted apart from invalid knobs", async () => {
    const result = checkKnobs(params("echo_status=503&echo_delay=10"), ON);
    assert.ok(!result.ok);
    assert.equal(result.reason, "knob_status");
    assert.equal(result.response.status, 503);
    assert.match(await result.response.text(), /as asked by echo_status=/);
  });

  test("valid knobs pass through", () => {
    assert.deepEqual(checkKnobs(params("tag=t&echo_delay=10"), ON), { ok: true, knobs: { delayMs: 10 } });
  });
});
