import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import { route } from "./routes.ts";
import { testContext } from "../testing_context.ts";

const { context: CONTEXT } = testContext({}, { runtime: "TestRuntime 1.2.3" });

describe("route", () => {
  test("GET / answers 200 with the landing text", async () => {
    const response = await route(new Request("http://echo.test:8181/"), CONTEXT);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    const body = await response.text();
    assert.ok(body.startsWith("Echo: a WebSocket echo server (TestRuntime 1.2.3).\n"), body);
    assert.ok(body.includes("Connect a WebSocket client to ws://echo.test:8181/\n"), body);
    assert.ok(body.includes(`new WebSocket("ws://echo.test:8181/")`), body);
    assert.ok(body.endsWith("\n"));
  });

  test("the landing text names the host, process and isolate that answered", async () => {
    const { context } = testContext({}, { runtime: "TestRuntime 1.2.3", hostname: "echo-7d9f-x2" });
    const response = await route(new Request("http://echo.test/"), context);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const lines = (await response.text()).split("\n");
    assert.equal(
      lines[1],
      `Served by echo-7d9f-x2 (TestRuntime 1.2.3, pid 0, id ${context.process.id}).`,
    );
    assert.ok(lines.includes("Connect a WebSocket client to ws://echo.test/"));
  });

  test("the landing text ignores the query string", async () => {
    const body = await (await route(new Request("http://echo.test/?tag=x"), CONTEXT)).text();
    assert.ok(body.includes("Connect a WebSocket client to ws://echo.test/\n"), body);
  });

  test("an https request is pointed at wss://", async () => {
    const body = await (await route(new Request("https://echo.test/"), CONTEXT)).text();
    assert.ok(body.includes("Connect a WebSocket client to wss://echo.test/\n"), body);
    assert.ok(!body.includes("ws://"), body);
  });

  test("GET / gives browsers the page and curl the short text", async () => {
    const html = await route(
      new Request("http://echo.test/", { headers: { accept: "text/html,*/*;q=0.8" } }),
      CONTEXT,
    );
    assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(html.headers.get("content-security-policy") ?? "", /default-src 'none'/);
    assert.doesNotMatch(
      await html.text(),
      /innerHTML|https?:\/\/(?!www\.w3)/,
      "no innerHTML, no external resource",
    );
    const curl = await route(new Request("http://echo.test/", { headers: { accept: "*/*" } }), CONTEXT);
    assert.match(curl.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(await curl.text(), /^Echo: a WebSocket echo server/);
  });

  test("the page's script is its typed function, embedded whole and called once", async () => {
    const html = await (await route(
      new Request("http://echo.test/", { headers: { accept: "text/html" } }),
      CONTEXT,
    )).text();
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]);
    assert.equal(scripts.length, 1);
    assert.match(
      scripts[0],
      /^\s*"use strict";\s*let ws = null;\s*\(function pageScript\(\) \{[\s\S]*\}\)\(\);\s*$/,
    );
    assert.doesNotMatch(
      scripts[0],
      /<\/|<!--|<script/i,
      "nothing in the script can end or confuse the element",
    );
    assert.doesNotMatch(
      scripts[0],
      // (`: void 0` is JavaScript: Bun writes `undefined` so.)
      /: (string|number|HTMLElement)\b|: void\b(?! 0)|\binterface /,
      "types are stripped",
    );
  });

  test("HEAD / answers 200", async () => {
    assert.equal((await route(new Request("http://echo.test/", { method: "HEAD" }), CONTEXT)).status, 200);
  });

  test("GET /info answers 200 with this server's JSON record", async () => {
    const response = await route(new Request("http://echo.test/info"), CONTEXT);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
    const body = await response.json();
    assert.deepEqual(body.runtime, { name: "TestRuntime", version: "1.2.3" });
    assert.deepEqual(body.live, []);
  });

  test("GET /healthz answers 200 ok", async () => {
    const response = await route(new Request("http://echo.test/healthz"), CONTEXT);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await response.text(), "ok\n");
  });

  test("GET /readyz answers 200 ready, then 503 draining once shutdown has begun; /healthz stays 200", async () => {
    const { context } = testContext();
    const ready = await route(new Request("http://echo.test/readyz"), context);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), "ready\n");
    context.hub.draining = true;
    const draining = await route(new Request("http://echo.test/readyz"), context);
    assert.equal(draining.status, 503);
    assert.equal(draining.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await draining.text(), "draining\n");
    assert.equal((await route(new Request("http://echo.test/healthz"), context)).status, 200);
  });

  test("GET /metrics answers 200 in the Prometheus text format", async () => {
    const response = await route(new Request("http://echo.test/metrics"), CONTEXT);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), METRICS_CONTENT_TYPE);
    const body = await response.text();
    assert.match(body, /^# HELP echo_connections_active /m);
    assert.match(body, /^echo_connections_total 0$/m);
  });

  for (const path of ["/info", "/healthz", "/readyz", "/metrics"]) {
    test(`HEAD ${path} answers 200; POST ${path} answers 405`, async () => {
      const head = await route(new Request(`http://echo.test${path}`, { method: "HEAD" }), CONTEXT);
      assert.equal(head.status, 200);
      const post = await route(new Request(`http://echo.test${path}`, { method: "POST" }), CONTEXT);
      assert.equal(post.status, 405);
      assert.equal(post.headers.get("allow"), "GET, HEAD");
    });
  }

  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    test(`${method} / answers 405 with Allow: GET, HEAD`, async () => {
      const response = await route(new Request("http://echo.test/", { method }), CONTEXT);
      assert.equal(response.status, 405);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal(await response.text(), `Method ${method} is not allowed here; use GET\n`);
    });
  }

  for (const path of ["/nope", "/index.html", "/a/b?x=1", "/healthz/", "/Metrics", "/info/"]) {
    test(`GET ${path} is the HTTP echo's`, async () => {
      const response = await route(new Request(`http://echo.test${path}`), CONTEXT, "192.0.2.1");
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.path, path.split("?")[0]);
      assert.equal(body.remoteAddress, "192.0.2.1");
    });
  }

  test("any method on another path is echoed", async () => {
    const response = await route(new Request("http://echo.test/x", { method: "PATCH", body: "b" }), CONTEXT);
    assert.equal((await response.json()).method, "PATCH");
  });

  test("GET /.ws is served like /; /sse and /.sse stream events", async () => {
    const ws = await route(new Request("http://echo.test/.ws"), CONTEXT);
    assert.match(await ws.text(), /^Echo: a WebSocket echo server/);
    for (const path of ["/sse", "/.sse"]) {
      const sse = await route(new Request(`http://echo.test${path}?count=1`), CONTEXT);
      assert.equal(sse.headers.get("content-type"), "text/event-stream");
      assert.match(
        await sse.text(),
        /^retry: 1000\n\nevent: server\ndata: \{.*\}\n\nevent: request\ndata: \{.*\}\n\nevent: time\nid: 1\ndata: /,
      );
    }
  });
});
