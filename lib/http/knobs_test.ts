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

  test("parameters outside the namespace are the application's, even with a knob's name", () => {
    assert.deepEqual(parse("status=active&delay=soon&header=x&body_bytes=big"), {});
    assert.deepEqual(parse("status=active", {}, { enabled: false, maxBodyBytes: 1000 }), {}, "KNOBS=off too");
  });

  test("a near miss inside the namespace is 400 naming the knob meant", () => {
    assert.match(
      error("echo_stauts=418").message,
      /^query parameter "echo_stauts": not a knob; did you mean echo_status\?/,
    );
    assert.match(error("Echo-Body-Bytes=1").message, /did you mean echo_body_bytes\?/);
  });

  test("query parameters and X-Echo- headers give the same knobs", () => {
    const expected = { status: 418, delayMs: 200, bodyBytes: 10, headers: [["X-A", "1"], ["B", "x: y"]] };
    assert.deepEqual(
      parse("echo_status=418&echo_delay=200&echo_body_bytes=10&echo_header=X-A:1&echo_header=B:%20x:%20y"),
      expected,
    );
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
    assert.deepEqual(error("echo_status=banana"), {
      status: 400,
      message: "query parameter echo_status: expected a whole number from 200 to 599",
    });
    assert.match(
      error("", { "X-Echo-Delay": "10001" }).message,
      /^header X-Echo-Delay: expected .* 0 to 10000$/,
    );
    assert.match(error("echo_body_bytes=1001").message, /^query parameter echo_body_bytes: .* 0 to 1000$/);
    assert.match(error("echo_status=199").message, /status/);
  });

  test("a knob given twice is 400, in any mix of forms", () => {
    assert.match(error("echo_delay=1&echo_delay=2").message, /delay given more than once/);
    assert.match(
      error("echo_status=200", { "X-Echo-Status": "201" }).message,
      /^header X-Echo-Status: status given/,
    );
  });

  test("header knobs: Name:value with a token name, no framing headers, no CR/LF, bounded", () => {
    assert.match(error("echo_header=novalue").message, /expected Name:value/);
    assert.match(error("echo_header=bad%20name:1").message, /expected Name:value/);
    assert.match(error("echo_header=Content-Length:5").message, /Content-Length frames the message/);
    assert.match(error("echo_header=X:a%0d%0ab").message, /without CR, LF or NUL/);
    const many = Array.from({ length: MAX_KNOB_HEADERS + 1 }, (_, i) => `echo_header=X${i}:1`).join("&");
    assert.match(error(many).message, /more than 32 headers/);
  });

  test("body knobs: literal text (UTF-8 from the query, bytes from the header) or base64, with a type", () => {
    const bytes = (knobs: ReturnType<typeof parse>) => {
      assert.ok(!isHttpKnobError(knobs) && knobs.body, JSON.stringify(knobs));
      return [[...knobs.body.bytes], knobs.body.contentType];
    };
    const text = "text/plain; charset=utf-8";
    assert.deepEqual(bytes(parse("echo_body=%C3%A9")), [[0xc3, 0xa9], text]);
    // Both runtimes hand a header's bytes over as Latin-1 characters: "Ã©" is the UTF-8 of "é", as sent.
    assert.deepEqual(bytes(parse("", { "X-Echo-Body": "\xc3\xa9" })), [[0xc3, 0xa9], text]);
    assert.deepEqual(bytes(parse("echo_body=")), [[], text]);
    const octets = "application/octet-stream";
    assert.deepEqual(bytes(parse("echo_body_base64=%2F%2F4%3D")), [[0xff, 0xfe], octets]);
    assert.deepEqual(bytes(parse("echo_body_base64=__4")), [[0xff, 0xfe], octets], "base64url, unpadded");
    assert.deepEqual(bytes(parse("echo_body_base64=+%2F4%3D")), [[0xfb, 0xfe], octets], "+ sent unencoded");
    assert.deepEqual(bytes(parse("", { "X-Echo-Body-Base64": "//4=" })), [[0xff, 0xfe], octets]);
  });

  test("body knobs: bounded, valid base64 only, one of them per request, once", () => {
    assert.equal(
      error(`echo_body=${"x".repeat(1001)}`).message,
      "query parameter echo_body: 1001 bytes, over MAX_MESSAGE_BYTES (1000)",
    );
    const largest = parse(`echo_body=${"x".repeat(1000)}`);
    assert.ok(
      !isHttpKnobError(largest) && largest.body?.bytes.byteLength === 1000,
      "MAX_MESSAGE_BYTES itself",
    );
    assert.match(
      error("", { "X-Echo-Body-Base64": "A".repeat(1336) }).message,
      /^header X-Echo-Body-Base64: 1002 bytes, over MAX_MESSAGE_BYTES/,
    );
    for (const bad of ["a!b", "ab=c", "a-b+", "a===", "abcde"]) {
      assert.match(
        error(`echo_body_base64=${encodeURIComponent(bad)}`).message,
        /^query parameter echo_body_base64: expected base64 \(or base64url\)/,
        bad,
      );
    }
    assert.match(
      error("echo_body=a&echo_body_bytes=3").message,
      /^query parameter echo_body_bytes: give one of echo_body, echo_body_base64, echo_body_bytes, not two/,
    );
    assert.equal(
      error("echo_body_base64=YQ", { "X-Echo-Body": "a" }).message,
      "query parameter echo_body_base64: give one of echo_body, echo_body_base64, echo_body_bytes, not two " +
        "(header X-Echo-Body too)",
    );
    assert.match(error("echo_body=a&echo_body=b").message, /body given more than once/);
    assert.match(error("echo_bdy=a").message, /did you mean echo_body\?/);
  });

  test("KNOBS=off refuses any knob with 403", () => {
    const off = { enabled: false, maxBodyBytes: 1000 };
    assert.deepEqual(error("echo_status=200", {}, off), {
      status: 403,
      message: "query parameter echo_status: test knobs are disabled on this server (KNOBS=off)",
    });
    assert.equal(error("", { "X-Echo-Header": "A:1" }, off).status, 403);
    assert.deepEqual(parse("x=1", {}, off), {});
  });
});
