import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeJwt } from "./jwt.ts";

/** base64url without padding, of the UTF-8 bytes of `text`. */
function b64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const HEADER = { alg: "HS256", typ: "JWT" };
// "é" and "?>" make base64url differ from base64 ("-" and "_" appear), which a plain atob would refuse.
const PAYLOAD = { sub: "1234567890", name: "Zoé ?>?>", iat: 1516239022, admin: true };
const TOKEN = `${b64url(JSON.stringify(HEADER))}.${b64url(JSON.stringify(PAYLOAD))}.c2lnbmF0dXJl`;

describe("decodeJwt", () => {
  test("a Bearer JWT: its header and claims, decoded and marked unverified", () => {
    assert.match(TOKEN, /[-_]/, "the token uses base64url's own characters");
    assert.deepEqual(decodeJwt(`Bearer ${TOKEN}`), { header: HEADER, payload: PAYLOAD, verified: false });
    // The scheme is case-insensitive (RFC 9110 §11.1); padding is tolerated; an unsigned token (alg none) too.
    assert.deepEqual(decodeJwt(`bearer   ${TOKEN}`), { header: HEADER, payload: PAYLOAD, verified: false });
    const padded = `${btoa(JSON.stringify(HEADER))}.${b64url("{}")}.`;
    assert.deepEqual(decodeJwt(`BEARER ${padded}`), { header: HEADER, payload: {}, verified: false });
  });

  test("no Authorization, or another scheme: nothing to report", () => {
    assert.equal(decodeJwt(null), undefined);
    assert.equal(decodeJwt("Basic dTpw"), undefined);
    assert.equal(decodeJwt("Bearerish x.y.z"), undefined);
  });

  test("a malformed token is reported with the reason, in one line", () => {
    const cases: Array<[string, RegExp]> = [
      ["Bearer", /^Bearer without a token$/],
      ["Bearer opaque-token-123", /^not a JWT: 1 part, expected header\.payload\.signature$/],
      ["Bearer a.b", /^not a JWT: 2 parts/],
      ["Bearer a.b.c.d.e", /encrypted JWT \(JWE\)/],
      [`Bearer .${b64url("{}")}.x`, /^header: not base64url$/],
      [`Bearer a+b.${b64url("{}")}.x`, /^header: not base64url$/],
      [`Bearer ${b64url("{}")}.${b64url("not json")}.x`, /^payload: not JSON$/],
      [`Bearer ${b64url("[1]")}.${b64url("{}")}.x`, /^header: not a JSON object$/],
      [`Bearer ${b64url("{}")}.${b64url("null")}.x`, /^payload: not a JSON object$/],
      // The bytes ff fe.
      [`Bearer ${b64url("{}")}.__4.x`, /^payload: not UTF-8$/],
      [`Bearer ${b64url("{}")}.${b64url("{}")}.sig!`, /^signature: not base64url$/],
      // Two Authorization headers reach Echo joined with ", ".
      [`Bearer ${TOKEN}, Bearer ${TOKEN}`, /^not a JWT: a space or comma in the token/],
    ];
    for (const [authorization, reason] of cases) {
      const report = decodeJwt(authorization);
      assert.ok(report && "error" in report, `${authorization}: ${JSON.stringify(report)}`);
      assert.match(report.error, reason, authorization);
      assert.doesNotMatch(report.error, /\n/);
    }
  });
});
