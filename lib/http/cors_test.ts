import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { corsHeaders, isPreflight, originAllowed, preflight } from "./cors.ts";

const LIST = ["https://ok.example"];

function request(method: string, headers: Record<string, string>) {
  return new Request("http://echo.test/x", { method, headers });
}

describe("CORS", () => {
  test("any origin is allowed unless ALLOWED_ORIGINS is set; then only those listed (any case)", () => {
    assert.ok(originAllowed("https://a.example", null));
    assert.ok(originAllowed(null, LIST), "no Origin: not a cross-origin browser request");
    assert.ok(originAllowed("https://OK.example", LIST));
    assert.ok(!originAllowed("https://evil.example", LIST));
  });

  test("answers are readable by any origin with *, or by the listed origin named", () => {
    assert.deepEqual(corsHeaders(request("GET", { origin: "https://a.example" }), null), {
      "access-control-allow-origin": "*",
      "access-control-expose-headers": "*",
    });
    assert.equal(
      corsHeaders(request("GET", { origin: "https://ok.example" }), LIST)["access-control-allow-origin"],
      "https://ok.example",
    );
    assert.deepEqual(corsHeaders(request("GET", {}), LIST), { vary: "origin" });
  });

  test("a preflight is OPTIONS with Origin and Access-Control-Request-Method", () => {
    assert.ok(
      isPreflight(request("OPTIONS", { origin: "https://a", "access-control-request-method": "PUT" })),
    );
    assert.ok(!isPreflight(request("OPTIONS", { origin: "https://a" })), "a plain OPTIONS is echoed");
  });

  test("a preflight gets 204 allowing what it asked for; a foreign origin 403; junk 400", async () => {
    const ok = preflight(
      request("OPTIONS", {
        origin: "https://ok.example",
        "access-control-request-method": "DELETE",
        "access-control-request-headers": "x-echo-status,content-type",
      }),
      LIST,
    );
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-methods"), "DELETE");
    assert.equal(ok.headers.get("access-control-allow-headers"), "x-echo-status, content-type");
    assert.equal(ok.headers.get("access-control-max-age"), "600");
    assert.equal(ok.headers.get("access-control-allow-credentials"), null, "never credentials");
    const foreign = preflight(
      request("OPTIONS", { origin: "https://evil.example", "access-control-request-method": "GET" }),
      LIST,
    );
    assert.equal(foreign.status, 403);
    assert.equal(await foreign.text(), "Origin is not allowed here (see ALLOWED_ORIGINS)\n");
    const junk = preflight(
      request("OPTIONS", { origin: "https://a", "access-control-request-method": "G T" }),
      null,
    );
    assert.equal(junk.status, 400);
  });
});
