import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type HttpKnobError, isHttpKnobError, MAX_KNOB_HEADERS, parseHttpKnobs } from "./knobs.ts";

const ON = { enabled: true, maxBodyBytes: 1000 };

function parse(query: string, headers: Record<string, string> = {}, options = ON) {
  return parseHttpKnobs(new URLSearchParams(query), new Headers(headers), options);
}

function error(query: string, headers: Record<string, string> = {}, options = ON): HttpKnobError {
  const result = parse(query, headers, options);
  assert.ok(isHttpKnobError(result), JSON.stringify(result));
  return result;
}

describe("parseHttpKnobs", () => {
  test("no knobs: a plain echo; other parameters are the client's", () => {
    assert.deepEqual(parse("x=1&statuses=2"), {});
  });

  test("query parameters and X-Echo- headers give the same knobs", () => {
    const expected = { status: 418, delayMs: 200, bodyBytes: 10, headers: [["X-A", "1"], ["B", "x: y"]] };
    assert.deepEqual(parse("status=418&delay=200&body_bytes=10&header=X-A:1&header=B:%20x:%20y"), expected);
    assert.deepEqual(
      parse("", {
        "X-Echo-Status": "418",
        "X-Echo-Delay": "200",
        "X-Echo-Body-Bytes": "10",
        "X-Echo-Header": "X-A: 1, B: x: y",
      }),
      expected,
    );
  });

  test("an invalid value is 400 naming the knob and where it came from", () => {
    assert.deepEqual(error("status=banana"), {
      status: 400,
      message: "query parameter status: expected a whole number from 200 to 599",
    });
    assert.match(
      error("", { "X-Echo-Delay": "10001" }).message,
      /^header X-Echo-Delay: expected .* 0 to 10000$/,
    );
    assert.match(error("body_bytes=1001").message, /^query parameter body_bytes: .* 0 to 1000$/);
    assert.match(error("status=199").message, /status/);
  });

  test("a knob given twice is 400, in any mix of forms", () => {
    assert.match(error("delay=1&delay=2").message, /delay given more than once/);
    assert.match(
      error("status=200", { "X-Echo-Status": "201" }).message,
      /^header X-Echo-Status: status given/,
    );
  });

  test("header knobs: Name:value with a token name, no framing headers, no CR/LF, bounded", () => {
    assert.match(error("header=novalue").message, /expected Name:value/);
    assert.match(error("header=bad%20name:1").message, /expected Name:value/);
    assert.match(error("header=Content-Length:5").message, /Content-Length frames the message/);
    assert.match(error("header=X:a%0d%0ab").message, /without CR, LF or NUL/);
    const many = Array.from({ length: MAX_KNOB_HEADERS + 1 }, (_, i) => `header=X${i}:1`).join("&");
    assert.match(error(many).message, /more than 32 headers/);
  });

  test("KNOBS=off refuses any knob with 403", () => {
    const off = { enabled: false, maxBodyBytes: 1000 };
    assert.deepEqual(error("status=200", {}, off), {
      status: 403,
      message: "query parameter status: test knobs are disabled on this server (KNOBS=off)",
    });
    assert.equal(error("", { "X-Echo-Header": "A:1" }, off).status, 403);
    assert.deepEqual(parse("x=1", {}, off), {});
  });
});
