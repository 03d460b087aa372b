import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Connection } from "./connection.ts";
import { createHandler, type Handler, internalError, type Upgrade } from "./handler.ts";
import { Registry } from "./registry.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const CLIENT = { remoteAddress: "198.51.100.7" };

/** Stands in for the runtime's 101, which `new Response` cannot build. */
const UPGRADED_STATUS = 200;

interface Harness {
  handler: Handler;
  registry: Registry;
  upgrades: Array<{ request: Request; connection: Connection }>;
}

function harness(answer: "response" | "undefined" = "response", registry = new Registry()): Harness {
  const upgrades: Harness["upgrades"] = [];
  const upgrade: Upgrade = (request, connection) => {
    upgrades.push({ request, connection });
    return answer === "response" ? new Response(null, { status: UPGRADED_STATUS }) : undefined;
  };
  return { handler: createHandler(upgrade, { registry, runtime: "TestRuntime 9" }), registry, upgrades };
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

/** Runs `body` with console.error captured instead of printed. */
async function capturingErrors<T>(body: () => T | Promise<T>): Promise<{ value: T; logged: unknown[][] }> {
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    logged.push(args);
  };
  try {
    return { value: await body(), logged };
  } finally {
    console.error = original;
  }
}

async function refusal(h: Harness, request: Request, status: number, naming: string): Promise<Response> {
  const response = h.handler(request, CLIENT);
  assert.ok(response !== undefined);
  assert.equal(response.status, status);
  const body = await response.text();
  assert.ok(body.includes(naming), body);
  assert.equal(h.upgrades.length, 0, "a refused handshake must not reach the runtime");
  return response;
}

describe("createHandler: refusals", () => {
  test("a POST upgrade gets 405 and Allow: GET", async () => {
    const h = harness();
    const response = await refusal(h, upgradeRequest({}, { method: "POST" }), 405, "GET");
    assert.equal(response.headers.get("allow"), "GET");
  });

  test("a missing Connection: upgrade gets 400 naming Connection", async () => {
    await refusal(harness(), upgradeRequest({ connection: null }), 400, "Connection");
    await refusal(harness(), upgradeRequest({ connection: "keep-alive" }), 400, "Connection");
  });

  test("a missing or bad key gets 400 naming Sec-WebSocket-Key", async () => {
    await refusal(harness(), upgradeRequest({ "sec-websocket-key": null }), 400, "Sec-WebSocket-Key");
    await refusal(harness(), upgradeRequest({ "sec-websocket-key": "abc" }), 400, "Sec-WebSocket-Key");
  });

  test("a malformed subprotocol list gets 400 naming Sec-WebSocket-Protocol", async () => {
    const request = upgradeRequest({ "sec-websocket-protocol": "chat, not a token" });
    await refusal(harness(), request, 400, "Sec-WebSocket-Protocol");
  });

  test("a missing or other version gets 426 and Sec-WebSocket-Version: 13", async () => {
    for (const version of [null, "8"]) {
      const h = harness();
      const request = upgradeRequest({ "sec-websocket-version": version });
      const response = await refusal(h, request, 426, "Sec-WebSocket-Version");
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
    const response = h.handler(new Request("http://echo.test/"), CLIENT);
    assert.ok(response !== undefined);
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.ok(body.includes("TestRuntime 9"), body);
    assert.equal(h.upgrades.length, 0);
  });

  test("WebSocket headers without Upgrade: websocket still go to the routes", () => {
    const h = harness();
    const response = h.handler(upgradeRequest({ upgrade: null }), CLIENT);
    assert.equal(response?.status, 200);
    assert.equal(h.upgrades.length, 0);
  });

  test("an unknown path gets 404", async () => {
    const h = harness();
    const response = h.handler(new Request("http://echo.test/missing"), CLIENT);
    assert.equal(response?.status, 404);
    assert.equal(await response?.text(), "Not found: /missing\n");
  });

  test("a POST / without Upgrade gets the routes' 405", () => {
    const response = harness().handler(new Request("http://echo.test/", { method: "POST" }), CLIENT);
    assert.equal(response?.status, 405);
    assert.equal(response?.headers.get("allow"), "GET, HEAD");
  });
});

describe("createHandler: upgrades", () => {
  test("a valid handshake reaches the runtime's upgrade, whose answer is returned", () => {
    const h = harness();
    const request = upgradeRequest();
    const response = h.handler(request, CLIENT);
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
      received: { messages: 0, bytes: 0 },
      sent: { messages: 0, bytes: 0 },
    });
  });

  test("takes ids from the registry in order, and leaves registering to the session", () => {
    const h = harness();
    h.handler(upgradeRequest(), CLIENT);
    h.handler(upgradeRequest(), { remoteAddress: "::1" });
    assert.deepEqual(h.upgrades.map((u) => u.connection.id), [1, 2]);
    assert.deepEqual(h.upgrades.map((u) => u.connection.remoteAddress), ["198.51.100.7", "::1"]);
    assert.equal(h.registry.live.size, 0);
    assert.equal(h.registry.totals.connections, 0);
  });

  test("upgrades on any path, recording it", () => {
    const h = harness();
    h.handler(upgradeRequest({}, { url: "http://echo.test/missing" }), CLIENT);
    assert.equal(h.upgrades[0].connection.path, "/missing");
    assert.equal(h.upgrades[0].connection.tag, null);
  });
});

describe("createHandler: failures", () => {
  test("an exception while capturing the connection becomes a logged 500", async () => {
    const failure = new Error("registry broke");
    const registry = new Registry();
    registry.nextId = () => {
      throw failure;
    };
    const h = harness("response", registry);
    const { value: response, logged } = await capturingErrors(() => h.handler(upgradeRequest(), CLIENT));
    assert.equal(response?.status, 500);
    assert.equal(await response?.text(), "Internal server error\n");
    assert.equal(h.upgrades.length, 0);
    assert.equal(logged.length, 1);
    assert.equal(logged[0][1], failure);
  });

  test("an exception in the routes becomes a 500, and the handler keeps serving", async () => {
    let broken = true;
    const options = {
      registry: new Registry(),
      get runtime(): string {
        if (broken) throw new Error("runtime unknown");
        return "Fixed 1";
      },
    };
    const handler = createHandler(() => new Response(null, { status: UPGRADED_STATUS }), options);
    const { value: response } = await capturingErrors(() =>
      handler(new Request("http://echo.test/"), CLIENT)
    );
    assert.equal(response?.status, 500);
    broken = false;
    const next = handler(new Request("http://echo.test/"), CLIENT);
    assert.equal(next?.status, 200);
    assert.ok((await next?.text())?.includes("Fixed 1"));
  });

  test("the 500 does not reveal the error", async () => {
    const { value: response } = await capturingErrors(() => internalError(new Error("secret detail")));
    assert.equal(response.status, 500);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await response.text(), "Internal server error\n");
  });

  test("internalError logs the error it was given", async () => {
    const failure = new Error("x");
    const { logged } = await capturingErrors(() => internalError(failure));
    assert.deepEqual(logged, [["echo: request failed:", failure]]);
  });
});
