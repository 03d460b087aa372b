import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type AcceptedHandshake,
  checkHandshake,
  isWebSocketUpgrade,
  type Refusal,
  refuse,
  type RefusedHandshake,
} from "./handshake.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

const VALID: Record<string, string> = {
  host: "echo.test",
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-version": "13",
  "sec-websocket-key": KEY,
};

/** A valid upgrade request, with headers replaced (a `null` value removes the header). */
function upgradeRequest(changes: Record<string, string | null> = {}, method = "GET"): Request {
  const headers = new Headers(VALID);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  return new Request("http://echo.test/", { method, headers });
}

/** Checks with ALLOWED_ORIGINS unset unless a list is given. */
function check(
  request: Request,
  allowedOrigins: string[] | null = null,
): AcceptedHandshake | RefusedHandshake {
  return checkHandshake(request, { allowedOrigins });
}

/** What an accepted check decided, without the headers it read (tested on their own below). */
function decided(result: AcceptedHandshake | RefusedHandshake): { ok: boolean; protocol?: string } {
  return result.ok ? { ok: true, protocol: result.protocol } : { ok: false };
}

function refused(request: Request): RefusedHandshake {
  const result = check(request);
  assert.equal(result.ok, false, "expected a refusal");
  return result as RefusedHandshake;
}

async function assertRefusal(
  request: Request,
  status: number,
  bodyIncludes: string,
  reason?: Refusal,
): Promise<Response> {
  const refusal = refused(request);
  if (reason !== undefined) assert.equal(refusal.reason, reason);
  const { response } = refusal;
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  const body = await response.text();
  assert.ok(body.includes(bodyIncludes), body);
  assert.ok(body.endsWith("\n") && body.indexOf("\n") === body.length - 1, "one line");
  return response;
}

describe("isWebSocketUpgrade", () => {
  test("is true for Upgrade: websocket in any case, also in a list", () => {
    for (const value of ["websocket", "WebSocket", "WEBSOCKET", "h2c, websocket"]) {
      assert.equal(
        isWebSocketUpgrade(new Request("http://echo.test/", { headers: { upgrade: value } })),
        true,
      );
    }
  });

  test("is false without Upgrade or for another protocol", () => {
    assert.equal(isWebSocketUpgrade(new Request("http://echo.test/")), false);
    for (const value of ["h2c", "websockets", "web socket", ""]) {
      assert.equal(
        isWebSocketUpgrade(new Request("http://echo.test/", { headers: { upgrade: value } })),
        false,
      );
    }
  });

  test("does not look at the method or other headers", () => {
    const request = new Request("http://echo.test/", { method: "POST", headers: { upgrade: "websocket" } });
    assert.equal(isWebSocketUpgrade(request), true);
  });
});

describe("checkHandshake accepts", () => {
  test("a valid handshake without a subprotocol", () => {
    assert.deepEqual(decided(check(upgradeRequest())), { ok: true, protocol: undefined });
  });

  test("with the headers a connection keeps, exactly as received", () => {
    const request = upgradeRequest({
      origin: "https://App.Example",
      "user-agent": "agent/1",
      "sec-websocket-extensions": "permessage-deflate; client_max_window_bits",
      "sec-websocket-protocol": "chat ,superchat",
    });
    assert.deepEqual(check(request), {
      ok: true,
      protocol: "chat",
      request: {
        origin: "https://App.Example",
        userAgent: "agent/1",
        key: KEY,
        extensions: "permessage-deflate; client_max_window_bits",
        protocol: "chat ,superchat",
      },
    });
    const bare = check(upgradeRequest());
    assert.deepEqual(bare.ok && bare.request, {
      origin: null,
      userAgent: null,
      key: KEY,
      extensions: null,
      protocol: null,
    });
  });

  test("Connection in any case and inside a list", () => {
    for (const value of ["upgrade", "UPGRADE", "keep-alive, Upgrade", "Upgrade,keep-alive"]) {
      assert.deepEqual(decided(check(upgradeRequest({ connection: value }))), {
        ok: true,
        protocol: undefined,
      });
    }
  });

  test("and selects the first subprotocol offered", () => {
    assert.deepEqual(decided(check(upgradeRequest({ "sec-websocket-protocol": "chat,superchat" }))), {
      ok: true,
      protocol: "chat",
    });
    assert.deepEqual(decided(check(upgradeRequest({ "sec-websocket-protocol": "chat, superchat" }))), {
      ok: true,
      protocol: "chat",
    });
  });

  test("an empty subprotocol header as no subprotocol", () => {
    assert.deepEqual(decided(check(upgradeRequest({ "sec-websocket-protocol": "" }))), {
      ok: true,
      protocol: undefined,
    });
  });

  test("any well-formed 16-byte base64 key", () => {
    for (const key of ["AAAAAAAAAAAAAAAAAAAAAA==", "/+/+/+/+/+/+/+/+/+/+/w==", "x3JJHMbDL1EzLkh9GBhXDw=="]) {
      assert.equal(check(upgradeRequest({ "sec-websocket-key": key })).ok, true, key);
    }
  });

  test("whatever the extensions header says", () => {
    const request = upgradeRequest({
      "sec-websocket-extensions": "permessage-deflate; client_max_window_bits",
    });
    assert.equal(check(request).ok, true);
  });
});

describe("checkHandshake refuses", () => {
  for (const method of ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"]) {
    test(`${method} with 405 and Allow: GET`, async () => {
      const response = await assertRefusal(upgradeRequest({}, method), 405, `method ${method}`, "method");
      assert.equal(response.headers.get("allow"), "GET");
    });
  }

  test("a missing Host header with 400 naming Host (RFC 6455 §4.2.1 item 2)", async () => {
    await assertRefusal(upgradeRequest({ host: null }), 400, "Host header is missing");
  });

  for (
    const [name, value] of [["content-length", "5"], ["content-length", "0"], [
      "transfer-encoding",
      "chunked",
    ]]
  ) {
    test(`${name}: ${value} with 400 naming it (RFC 6455 §4.1: a handshake has no body)`, async () => {
      await assertRefusal(upgradeRequest({ [name]: value }), 400, name);
    });
  }

  test("a missing Connection header with 400 naming Connection", async () => {
    await assertRefusal(upgradeRequest({ connection: null }), 400, "Connection", "connection");
  });

  test("a Connection header without upgrade with 400 naming Connection", async () => {
    for (const value of ["keep-alive", "upgrades", "close"]) {
      await assertRefusal(upgradeRequest({ connection: value }), 400, "Connection", "connection");
    }
  });

  test("a missing version with 426 and Sec-WebSocket-Version: 13", async () => {
    const response = await assertRefusal(
      upgradeRequest({ "sec-websocket-version": null }),
      426,
      "missing",
      "version",
    );
    assert.equal(response.headers.get("sec-websocket-version"), "13");
  });

  test("another version with 426 and Sec-WebSocket-Version: 13", async () => {
    for (const version of ["8", "12", "14", "13, 8", "013"]) {
      const request = upgradeRequest({ "sec-websocket-version": version });
      const response = await assertRefusal(request, 426, "unsupported", "version");
      assert.equal(response.headers.get("sec-websocket-version"), "13");
    }
  });

  test("a missing key with 400 naming Sec-WebSocket-Key", async () => {
    await assertRefusal(
      upgradeRequest({ "sec-websocket-key": null }),
      400,
      "Sec-WebSocket-Key header is missing",
      "key",
    );
  });

  for (
    const key of [
      "",
      "short",
      "dGhlIHNhbXBsZSBub25jZQ", // no padding
      "dGhlIHNhbXBsZSBub25jZQ=", // one '='
      "dGhlIHNhbXBsZSBub25jZQAA", // 18 bytes
      "dGhlIHNhbXBsZSBub25jZ==", // 15 bytes
      "dGhlIHNhbXBsZSBub25jZQ-=", // URL-safe alphabet
      "dGhlIHNhbXBsZSBub25j ZQ==",
      `${KEY}, ${KEY}`, // two Sec-WebSocket-Key headers
    ]
  ) {
    test(`the key ${JSON.stringify(key)} with 400 naming Sec-WebSocket-Key`, async () => {
      await assertRefusal(upgradeRequest({ "sec-websocket-key": key }), 400, "Sec-WebSocket-Key", "key");
    });
  }

  for (const protocol of ["a b", "chat, a;b", 'chat, "x"', "chat/1"]) {
    test(`the subprotocol list ${JSON.stringify(protocol)} with 400 naming Sec-WebSocket-Protocol`, async () => {
      await assertRefusal(
        upgradeRequest({ "sec-websocket-protocol": protocol }),
        400,
        "Sec-WebSocket-Protocol",
        "protocol",
      );
    });
  }

  test("checks in order: method, Connection, version, key, subprotocol", async () => {
    const all = { connection: null, "sec-websocket-version": null, "sec-websocket-key": null };
    assert.equal(
      refused(upgradeRequest({ ...all, "sec-websocket-protocol": "a b" }, "POST")).response.status,
      405,
    );
    await assertRefusal(upgradeRequest({ ...all, "sec-websocket-protocol": "a b" }), 400, "Connection");
    await assertRefusal(
      upgradeRequest({ "sec-websocket-version": null, "sec-websocket-key": null }),
      426,
      "Sec-WebSocket-Version",
    );
    await assertRefusal(
      upgradeRequest({ "sec-websocket-key": null, "sec-websocket-protocol": "a b" }),
      400,
      "Sec-WebSocket-Key",
    );
  });

  test("without reflecting what the client sent", async () => {
    const marker = "<script>alert(1)</script>";
    for (
      const request of [
        upgradeRequest({ "sec-websocket-version": marker }),
        upgradeRequest({ "sec-websocket-key": marker }),
        upgradeRequest({ connection: marker }),
      ]
    ) {
      const body = await refused(request).response.text();
      assert.ok(!body.includes(marker), body);
    }
  });
});

describe("checkHandshake and Origin", () => {
  const allowed = ["https://app.example", "http://localhost:3000", "null"];

  test("any Origin is accepted when ALLOWED_ORIGINS is unset", () => {
    for (const origin of ["https://evil.example", "null", "anything at all"]) {
      assert.equal(check(upgradeRequest({ origin }), null).ok, true, origin);
    }
  });

  test("a listed Origin is accepted, in any case", () => {
    for (const origin of ["https://app.example", "HTTPS://App.Example", "http://localhost:3000", "null"]) {
      assert.deepEqual(
        decided(check(upgradeRequest({ origin, "sec-websocket-protocol": "chat" }), allowed)),
        {
          ok: true,
          protocol: "chat",
        },
      );
    }
  });

  test("a request without Origin (not a browser) is accepted even with a list", () => {
    assert.equal(check(upgradeRequest({ origin: null }), allowed).ok, true);
    assert.equal(check(upgradeRequest({ origin: null }), []).ok, true);
  });

  for (
    const origin of [
      "https://evil.example",
      "http://app.example", // another scheme
      "https://app.example:8443", // another port
      "https://app.example.evil.example", // a suffix
      "https://sub.app.example",
      "https://app.example/",
      "",
    ]
  ) {
    test(`the unlisted Origin ${JSON.stringify(origin)} gets 403 naming Origin and ALLOWED_ORIGINS`, async () => {
      const request = upgradeRequest({ origin });
      const refusal = check(request, allowed);
      assert.equal(refusal.ok, false);
      const { response, reason } = refusal as RefusedHandshake;
      assert.equal(reason, "origin");
      assert.equal(response.status, 403);
      const body = await response.text();
      assert.ok(body.startsWith("Origin ") && body.includes("ALLOWED_ORIGINS"), body);
      assert.ok(!body.includes(origin) || origin === "", "the Origin is not reflected");
    });
  }

  test("an empty list refuses every browser", () => {
    assert.equal(check(upgradeRequest({ origin: "https://app.example" }), []).ok, false);
  });

  test("Origin is checked after the key and before the subprotocol", () => {
    const foreign = { origin: "https://evil.example" };
    const reasonOf = (result: AcceptedHandshake | RefusedHandshake) => result.ok ? "accepted" : result.reason;
    assert.equal(reasonOf(check(upgradeRequest({ ...foreign, "sec-websocket-key": null }), allowed)), "key");
    assert.equal(
      reasonOf(check(upgradeRequest({ ...foreign, "sec-websocket-protocol": "a b" }), allowed)),
      "origin",
    );
  });
});

describe("refuse", () => {
  test("builds a one-line plain-text refusal with the status, reason and extra headers", async () => {
    const refusal = refuse(503, "capacity", "server is full", { "retry-after": "5" });
    assert.equal(refusal.ok, false);
    assert.equal(refusal.reason, "capacity");
    assert.equal(refusal.response.status, 503);
    assert.equal(refusal.response.headers.get("retry-after"), "5");
    assert.equal(refusal.response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await refusal.response.text(), "server is full\n");
  });
});
