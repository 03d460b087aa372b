import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Config } from "../config.ts";
import type { Connection } from "../connection.ts";
import type { Context } from "../context.ts";
import { RETRY_AFTER_SECONDS } from "../admission.ts";
import { createHandler, type Handler, internalError, type Upgrade } from "./handler.ts";
import { bunExtensions } from "../deflate.ts";
import type { Registry } from "../registry.ts";
import { type LoggedEvent, NO_TRAFFIC, testConnection, testContext } from "../testing_context.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const CLIENT = { remoteAddress: "198.51.100.7" };

/** Stands in for the runtime's 101, which `new Response` cannot build. */
const UPGRADED_STATUS = 200;

interface Harness {
  handler: Handler;
  context: Context;
  registry: Registry;
  events: LoggedEvent[];
  upgrades: Array<{ request: Request; connection: Connection }>;
}

function harness(
  answer: "response" | "undefined" = "response",
  config: Partial<Config> = {},
): Harness {
  const upgrades: Harness["upgrades"] = [];
  const upgrade: Upgrade = (request, connection) => {
    upgrades.push({ request, connection });
    return answer === "response" ? new Response(null, { status: UPGRADED_STATUS }) : undefined;
  };
  const { context, events } = testContext(config, { runtime: "TestRuntime 9" });
  return { handler: createHandler(upgrade, context), context, registry: context.registry, events, upgrades };
}

/** A valid upgrade request, with headers replaced (a `null` value removes the header). */
function upgradeRequest(
  changes: Record<string, string | null> = {},
  init: { method?: string; url?: string } = {},
): Request {
  const headers = new Headers({
    host: "echo.test",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-version": "13",
    "sec-websocket-key": KEY,
  });
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  return new Request(init.url ?? "http://echo.test/", { method: init.method ?? "GET", headers });
}

/** A hub member that does nothing: it only takes up a connection slot. */
const SLOT = { connection: testConnection(), hubSlot: -1, close() {}, keepalive() {} };

async function refusal(
  h: Harness,
  request: Request,
  status: number,
  naming: string,
  reason?: string,
): Promise<Response> {
  const before = h.registry.refused.get(reason ?? "") ?? 0;
  const response = await h.handler(request, CLIENT);
  assert.ok(response !== undefined);
  assert.equal(response.status, status);
  const body = await response.text();
  assert.ok(body.includes(naming), body);
  assert.equal(h.upgrades.length, 0, "a refused handshake must not reach the runtime");
  if (reason !== undefined) {
    assert.equal(h.registry.refused.get(reason), before + 1, `counted as ${reason}`);
    const logged = h.events.at(-1);
    assert.deepEqual(
      [logged?.event, logged?.status, logged?.reason, logged?.remote],
      ["refused", status, reason, CLIENT.remoteAddress],
    );
  }
  return response;
}

describe("createHandler: refusals", () => {
  test("a POST upgrade gets 405 and Allow: GET", async () => {
    const h = harness();
    const response = await refusal(h, upgradeRequest({}, { method: "POST" }), 405, "GET", "method");
    assert.equal(response.headers.get("allow"), "GET");
  });

  test("a missing Connection: upgrade gets 400 naming Connection", async () => {
    await refusal(harness(), upgradeRequest({ connection: null }), 400, "Connection", "connection");
    await refusal(harness(), upgradeRequest({ connection: "keep-alive" }), 400, "Connection");
  });

  test("a missing or bad key gets 400 naming Sec-WebSocket-Key", async () => {
    await refusal(harness(), upgradeRequest({ "sec-websocket-key": null }), 400, "Sec-WebSocket-Key", "key");
    await refusal(harness(), upgradeRequest({ "sec-websocket-key": "abc" }), 400, "Sec-WebSocket-Key");
  });

  test("a malformed subprotocol list gets 400 naming Sec-WebSocket-Protocol", async () => {
    const request = upgradeRequest({ "sec-websocket-protocol": "chat, not a token" });
    await refusal(harness(), request, 400, "Sec-WebSocket-Protocol", "protocol");
  });

  test("a missing or other version gets 426 and Sec-WebSocket-Version: 13", async () => {
    for (const version of [null, "8"]) {
      const h = harness();
      const request = upgradeRequest({ "sec-websocket-version": version });
      const response = await refusal(h, request, 426, "Sec-WebSocket-Version", "version");
      assert.equal(response.headers.get("sec-websocket-version"), "13");
    }
  });

  test("refusals do not use up connection ids", async () => {
    const h = harness();
    await refusal(h, upgradeRequest({ "sec-websocket-key": null }), 400, "Sec-WebSocket-Key");
    assert.equal(h.registry.nextId(), 1);
  });
});

describe("createHandler: plain HTTP", () => {
  test("a GET / without Upgrade goes to the routes and gets 200", async () => {
    const h = harness();
    const response = await h.handler(new Request("http://echo.test/"), CLIENT);
    assert.ok(response !== undefined);
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.ok(body.includes("TestRuntime 9"), body);
    assert.equal(h.upgrades.length, 0);
  });

  test("WebSocket headers without Upgrade: websocket still go to the routes", async () => {
    const h = harness();
    const response = await h.handler(upgradeRequest({ upgrade: null }), CLIENT);
    assert.equal(response?.status, 200);
    assert.equal(h.upgrades.length, 0);
  });

  test("another path gets the HTTP echo, with the client's address", async () => {
    const h = harness();
    const response = await h.handler(new Request("http://echo.test/missing"), CLIENT);
    assert.equal(response?.status, 200);
    const body = await response!.json();
    assert.equal(body.path, "/missing");
    assert.equal(body.remoteAddress, CLIENT.remoteAddress);
  });

  test("a POST / without Upgrade gets the routes' 405", async () => {
    const response = await harness().handler(new Request("http://echo.test/", { method: "POST" }), CLIENT);
    assert.equal(response?.status, 405);
    assert.equal(response?.headers.get("allow"), "GET, HEAD");
  });
});

describe("createHandler: upgrades", () => {
  test("a valid handshake reaches the runtime's upgrade, whose answer is returned", async () => {
    const h = harness();
    const request = upgradeRequest();
    const response = await h.handler(request, CLIENT);
    assert.equal(response?.status, UPGRADED_STATUS);
    assert.equal(h.upgrades.length, 1);
    assert.equal(h.upgrades[0].request, request);
  });

  test("returns undefined when the runtime answers itself", () => {
    const h = harness("undefined");
    assert.equal(h.handler(upgradeRequest(), CLIENT), undefined);
    assert.equal(h.upgrades.length, 1);
  });

  test("selects the first subprotocol offered", () => {
    for (const offered of ["chat,superchat", "chat, superchat", "chat"]) {
      const h = harness();
      h.handler(upgradeRequest({ "sec-websocket-protocol": offered }), CLIENT);
      assert.equal(h.upgrades[0].connection.protocol, "chat", offered);
      assert.equal(h.upgrades[0].connection.request.protocol, offered);
    }
  });

  test("records no subprotocol when none is offered", () => {
    const h = harness();
    h.handler(upgradeRequest(), CLIENT);
    assert.equal(h.upgrades[0].connection.protocol, "");
    assert.equal(h.upgrades[0].connection.request.protocol, null);
  });

  test("captures the connection's facts", () => {
    const h = harness();
    const before = Date.now();
    h.handler(
      upgradeRequest({
        origin: "https://example.org",
        "user-agent": "agent/2",
        "sec-websocket-extensions": "permessage-deflate; client_max_window_bits",
        "sec-websocket-protocol": "chat,superchat",
      }, { url: "http://echo.test:8181/some/path?tag=my-tag&other=1" }),
      CLIENT,
    );
    const after = Date.now();
    const connection = h.upgrades[0].connection;
    assert.ok(connection.openedAt >= before && connection.openedAt <= after);
    assert.deepEqual({ ...connection, openedAt: 0 }, {
      id: 1,
      tag: "my-tag",
      path: "/some/path",
      query: "tag=my-tag&other=1",
      remoteAddress: "198.51.100.7",
      openedAt: 0,
      request: {
        origin: "https://example.org",
        userAgent: "agent/2",
        key: KEY,
        extensions: "permessage-deflate; client_max_window_bits",
        protocol: "chat,superchat",
      },
      protocol: "chat",
      extensions: "",
      knobs: {},
      ...NO_TRAFFIC,
    });
  });

  test("records the extensions the runtime's policy answers to the offer", () => {
    const { context } = testContext({}, { extensions: bunExtensions("shared") });
    const connections: Connection[] = [];
    const handler = createHandler((_, connection) => {
      connections.push(connection);
      return new Response(null, { status: UPGRADED_STATUS });
    }, context);
    handler(
      upgradeRequest({ "sec-websocket-extensions": "permessage-deflate; client_max_window_bits" }),
      CLIENT,
    );
    handler(upgradeRequest(), CLIENT);
    assert.deepEqual(connections.map((c) => c.extensions), [
      "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
      "",
    ]);
  });

  test("takes ids from the registry in order, and leaves registering to the session", () => {
    const h = harness();
    h.handler(upgradeRequest(), CLIENT);
    h.handler(upgradeRequest(), { remoteAddress: "::1" });
    assert.deepEqual(h.upgrades.map((u) => u.connection.id), [1, 2]);
    assert.deepEqual(h.upgrades.map((u) => u.connection.remoteAddress), ["198.51.100.7", "::1"]);
    assert.equal(h.context.hub.sessions.length, 0);
    assert.equal(h.registry.totals([]).connections, 0);
  });

  test("upgrades on any path, recording it", () => {
    const h = harness();
    h.handler(upgradeRequest({}, { url: "http://echo.test/missing" }), CLIENT);
    assert.equal(h.upgrades[0].connection.path, "/missing");
    assert.equal(h.upgrades[0].connection.tag, null);
  });

  test("reads an upgrade's headers one at a time with get, never all of them", () => {
    // Deno answers `get` on a served request from the runtime, but `has` or iterating copies every
    // header into the request, and an upgraded connection keeps its request: ~1.2 KB each.
    const request = upgradeRequest({ origin: "https://app.example", "sec-websocket-protocol": "chat" });
    const headers = request.headers;
    const readsAll = () => {
      throw new Error("read all headers");
    };
    for (const name of ["has", "entries", "keys", "values", "forEach", Symbol.iterator] as const) {
      Object.defineProperty(headers, name, { value: readsAll });
    }
    const h = harness();
    h.handler(request, CLIENT);
    assert.equal(h.upgrades.length, 1);
    assert.equal(h.upgrades[0].connection.protocol, "chat");
  });

  test("reads each of an upgrade's headers once", () => {
    // On Deno each `get` on a served request is a call into the runtime.
    const request = upgradeRequest({
      origin: "https://app.example",
      "sec-websocket-protocol": "chat",
      "sec-websocket-extensions": "permessage-deflate",
      "user-agent": "agent/1",
    });
    const get = request.headers.get.bind(request.headers);
    const reads: string[] = [];
    Object.defineProperty(request.headers, "get", {
      value: (name: string) => {
        reads.push(name.toLowerCase());
        return get(name);
      },
    });
    const h = harness();
    h.handler(request, CLIENT);
    assert.equal(h.upgrades.length, 1);
    const twice = reads.filter((name, index) => reads.indexOf(name) !== index);
    assert.deepEqual(twice, [], `read more than once: ${twice.join(", ")}`);
    assert.deepEqual(h.upgrades[0].connection.request, {
      origin: "https://app.example",
      userAgent: "agent/1",
      key: request.headers.get("sec-websocket-key"),
      extensions: "permessage-deflate",
      protocol: "chat",
    });
  });
});

describe("createHandler: origin", () => {
  const allowed = { allowedOrigins: ["https://app.example"] };

  test("a listed Origin is upgraded", async () => {
    const h = harness("response", allowed);
    assert.equal(
      (await h.handler(upgradeRequest({ origin: "https://App.Example" }), CLIENT))?.status,
      UPGRADED_STATUS,
    );
    assert.equal(h.upgrades.length, 1);
  });

  test("a foreign Origin gets 403, counted and logged as origin", async () => {
    const h = harness("response", allowed);
    await refusal(h, upgradeRequest({ origin: "https://evil.example" }), 403, "Origin", "origin");
  });

  test("a request without Origin is upgraded", () => {
    const h = harness("response", allowed);
    h.handler(upgradeRequest(), CLIENT);
    assert.equal(h.upgrades.length, 1);
  });

  test("with ALLOWED_ORIGINS unset any Origin is upgraded", () => {
    const h = harness();
    h.handler(upgradeRequest({ origin: "https://evil.example" }), CLIENT);
    assert.equal(h.upgrades.length, 1);
  });
});

describe("createHandler: admission", () => {
  test("RETRY_AFTER_SECONDS is a small positive whole number", () => {
    assert.ok(Number.isInteger(RETRY_AFTER_SECONDS) && RETRY_AFTER_SECONDS > 0 && RETRY_AFTER_SECONDS <= 60);
  });

  test("while draining, upgrades get 503 with Retry-After, counted as shutting_down", async () => {
    const h = harness();
    h.context.hub.draining = true;
    const response = await refusal(h, upgradeRequest(), 503, "shutting down", "shutting_down");
    assert.equal(response.headers.get("retry-after"), String(RETRY_AFTER_SECONDS));
    assert.equal(h.registry.nextId(), 1, "no id was used up");
  });

  test("while draining, plain HTTP is still answered", async () => {
    const h = harness();
    h.context.hub.draining = true;
    assert.equal((await h.handler(new Request("http://echo.test/healthz"), CLIENT))?.status, 200);
  });

  test("below MAX_CONNECTIONS upgrades pass; at it they get 503 with Retry-After, counted as capacity", async () => {
    const h = harness("response", { maxConnections: 2 });
    h.context.hub.add({ ...SLOT });
    assert.equal((await h.handler(upgradeRequest(), CLIENT))?.status, UPGRADED_STATUS);
    h.context.hub.add({ ...SLOT });
    h.upgrades.length = 0;
    const response = await refusal(h, upgradeRequest(), 503, "limit of 2 connections", "capacity");
    assert.equal(response.headers.get("retry-after"), String(RETRY_AFTER_SECONDS));
    await refusal(h, upgradeRequest(), 503, "limit of 2", "capacity");
    assert.equal(h.registry.refused.get("capacity"), 2);
  });

  test("a slot that frees up admits the next upgrade", async () => {
    const h = harness("response", { maxConnections: 1 });
    const member = { ...SLOT };
    h.context.hub.add(member);
    assert.equal((await h.handler(upgradeRequest(), CLIENT))?.status, 503);
    h.context.hub.remove(member);
    assert.equal((await h.handler(upgradeRequest(), CLIENT))?.status, UPGRADED_STATUS);
  });

  test("a malformed handshake is refused for what it is, even at capacity", async () => {
    const h = harness("response", { maxConnections: 1 });
    h.context.hub.add({ ...SLOT });
    h.context.hub.draining = true;
    await refusal(h, upgradeRequest({ "sec-websocket-key": null }), 400, "Sec-WebSocket-Key", "key");
    assert.equal(h.registry.refused.has("capacity"), false);
  });

  test("refusals are counted by reason", () => {
    const h = harness("response", { allowedOrigins: ["https://app.example"] });
    h.handler(upgradeRequest({ origin: "https://evil.example" }), CLIENT);
    h.handler(upgradeRequest({ origin: "https://evil.example" }), CLIENT);
    h.handler(upgradeRequest({ "sec-websocket-version": "8" }), CLIENT);
    h.context.hub.draining = true;
    h.handler(upgradeRequest(), CLIENT);
    assert.deepEqual(Object.fromEntries(h.registry.refused), { origin: 2, version: 1, shutting_down: 1 });
  });
});

describe("createHandler: failures", () => {
  test("an exception while capturing the connection becomes a logged 500", async () => {
    const failure = new Error("registry broke");
    const h = harness();
    h.registry.nextId = () => {
      throw failure;
    };
    const response = await h.handler(upgradeRequest(), CLIENT);
    assert.equal(response?.status, 500);
    assert.equal(await response?.text(), "Internal server error\n");
    assert.equal(h.upgrades.length, 0);
    const logged = h.events.filter((e) => e.level === "error");
    assert.deepEqual(logged.map((e) => [e.event, e.error]), [["request failed", "Error: registry broke"]]);
  });

  test("an exception in the routes becomes a 500, and the handler keeps serving", async () => {
    let broken = true;
    const { context, events } = testContext();
    Object.defineProperty(context, "runtime", {
      get(): string {
        if (broken) throw new Error("runtime unknown");
        return "Fixed 1";
      },
    });
    const handler = createHandler(() => new Response(null, { status: UPGRADED_STATUS }), context);
    const response = await handler(new Request("http://echo.test/"), CLIENT);
    assert.equal(response?.status, 500);
    assert.equal(events.at(-1)?.error, "Error: runtime unknown");
    broken = false;
    const next = await handler(new Request("http://echo.test/"), CLIENT);
    assert.equal(next?.status, 200);
    assert.ok((await next?.text())?.includes("Fixed 1"));
  });

  test("the 500 does not reveal the error", async () => {
    const { context } = testContext();
    const response = internalError(new Error("secret detail"), context);
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await response.text(), "Internal server error\n");
  });

  test("internalError logs the error it was given at level error", () => {
    const { context, events } = testContext();
    internalError(new TypeError("x"), context);
    assert.deepEqual(events.map((e) => [e.level, e.event, e.error]), [[
      "error",
      "request failed",
      "TypeError: x",
    ]]);
  });
});
