import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { clientAddress, parseTrustProxy } from "./client_address.ts";

const XFF = { header: "x-forwarded-for", hops: 1 } as const;
const FWD = { header: "forwarded", hops: 1 } as const;

function headers(init: Record<string, string>): Headers {
  return new Headers(init);
}

describe("parseTrustProxy", () => {
  test("off, a header, a header with hops", () => {
    assert.equal(parseTrustProxy("off"), null);
    assert.deepEqual(parseTrustProxy("x-forwarded-for"), XFF);
    assert.deepEqual(parseTrustProxy("Forwarded"), FWD);
    assert.deepEqual(parseTrustProxy("x-forwarded-for:2"), { header: "x-forwarded-for", hops: 2 });
  });

  test("refuses anything else", () => {
    for (const bad of ["on", "true", "1", "x-real-ip", "forwarded:0", "forwarded:x", "forwarded:100", ""]) {
      assert.throws(() => parseTrustProxy(bad), /expected off, x-forwarded-for or forwarded/, bad);
    }
  });
});

describe("clientAddress", () => {
  test("ignores forwarding headers unless a proxy is trusted", () => {
    const spoof = headers({ "x-forwarded-for": "6.6.6.6", forwarded: "for=6.6.6.6" });
    assert.equal(clientAddress(spoof, "10.0.0.1", null), "10.0.0.1");
  });

  test("takes the entry the trusted proxy appended, not what the client wrote", () => {
    // The client sent `X-Forwarded-For: 6.6.6.6`; nginx appended the address it saw.
    const h = headers({ "x-forwarded-for": "6.6.6.6, 203.0.113.7" });
    assert.equal(clientAddress(h, "127.0.0.1", XFF), "203.0.113.7");
    assert.equal(clientAddress(h, "127.0.0.1", { header: "x-forwarded-for", hops: 2 }), "6.6.6.6");
  });

  test("with fewer entries than hops takes the leftmost", () => {
    const h = headers({ "x-forwarded-for": "203.0.113.7" });
    assert.equal(clientAddress(h, "127.0.0.1", { header: "x-forwarded-for", hops: 3 }), "203.0.113.7");
  });

  test("reads only the header it trusts", () => {
    const h = headers({ "x-forwarded-for": "6.6.6.6", forwarded: "for=203.0.113.7" });
    assert.equal(clientAddress(h, "127.0.0.1", FWD), "203.0.113.7");
    assert.equal(clientAddress(new Headers({ forwarded: "for=6.6.6.6" }), "127.0.0.1", XFF), "127.0.0.1");
  });

  test("parses RFC 7239 elements: quoting, IPv6, ports, other parameters, case", () => {
    const cases: Array<[string, string]> = [
      ["for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"],
      ['For="[2001:DB8:cafe::17]:4711"', "2001:db8:cafe::17"],
      ['for=6.6.6.6, proto=https;for="198.51.100.17:8080"', "198.51.100.17"],
      ['for="_hidden, with comma", for=192.0.2.43', "192.0.2.43"],
    ];
    for (const [value, expected] of cases) {
      assert.equal(clientAddress(headers({ forwarded: value }), "127.0.0.1", FWD), expected, value);
    }
  });

  test("X-Forwarded-For with IPv6 and ports", () => {
    assert.equal(clientAddress(headers({ "x-forwarded-for": "::1" }), "p", XFF), "::1");
    assert.equal(clientAddress(headers({ "x-forwarded-for": "[2001:db8::1]:80" }), "p", XFF), "2001:db8::1");
    assert.equal(clientAddress(headers({ "x-forwarded-for": "192.0.2.1:5000" }), "p", XFF), "192.0.2.1");
  });

  test("falls back to the peer when the chosen entry is not an address", () => {
    for (const value of ["unknown", "_hidden", "999.1.1.1", "", "a, b", "<script>"]) {
      assert.equal(clientAddress(headers({ "x-forwarded-for": value }), "10.0.0.1", XFF), "10.0.0.1", value);
    }
    assert.equal(clientAddress(headers({ forwarded: "for=unknown" }), "10.0.0.1", FWD), "10.0.0.1");
    assert.equal(clientAddress(headers({ forwarded: "proto=https" }), "10.0.0.1", FWD), "10.0.0.1");
    assert.equal(clientAddress(new Headers(), "10.0.0.1", XFF), "10.0.0.1");
  });
});
