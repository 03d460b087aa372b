import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULTS } from "./config.ts";
import { createContext } from "./context.ts";
import { createLogger } from "./log.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import { route } from "./routes.ts";

const OPTIONS = createContext(DEFAULTS, {
  runtime: "TestRuntime 1.2.3",
  logger: createLogger(() => {}, { format: "json", level: "error" }),
});

describe("route", () => {
  test("GET / answers 200 with the landing text", async () => {
    const response = route(new Request("http://echo.test:8181/"), OPTIONS);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    const body = await response.text();
    assert.ok(body.startsWith("Echo: a WebSocket echo server (TestRuntime 1.2.3).\n"), body);
    assert.ok(body.includes("Connect a WebSocket client to ws://echo.test:8181/\n"), body);
    assert.ok(body.includes(`new WebSocket("ws://echo.test:8181/")`), body);
    assert.ok(body.endsWith("\n"));
  });

  test("the landing text ignores the query string", async () => {
    const body = await route(new Request("http://echo.test/?tag=x"), OPTIONS).text();
    assert.ok(body.includes("Connect a WebSocket client to ws://echo.test/\n"), body);
  });

  test("an https request is pointed at wss://", async () => {
    const body = await route(new Request("https://echo.test/"), OPTIONS).text();
    assert.ok(body.includes("Connect a WebSocket client to wss://echo.test/\n"), body);
    assert.ok(!body.includes("ws://"), body);
  });

  test("HEAD / answers 200", () => {
    assert.equal(route(new Request("http://echo.test/", { method: "HEAD" }), OPTIONS).status, 200);
  });

  test("GET /healthz answers 200 ok", async () => {
    const response = route(new Request("http://echo.test/healthz"), OPTIONS);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await response.text(), "ok\n");
  });

  test("GET /metrics answers 200 in the Prometheus text format", async () => {
    const response = route(new Request("http://echo.test/metrics"), OPTIONS);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), METRICS_CONTENT_TYPE);
    const body = await response.text();
    assert.match(body, /^# HELP echo_connections_active /m);
    assert.match(body, /^echo_connections_total 0$/m);
  });

  for (const path of ["/healthz", "/metrics"]) {
    test(`HEAD ${path} answers 200; POST ${path} answers 405`, () => {
      assert.equal(route(new Request(`http://echo.test${path}`, { method: "HEAD" }), OPTIONS).status, 200);
      const post = route(new Request(`http://echo.test${path}`, { method: "POST" }), OPTIONS);
      assert.equal(post.status, 405);
      assert.equal(post.headers.get("allow"), "GET, HEAD");
    });
  }

  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    test(`${method} / answers 405 with Allow: GET, HEAD`, async () => {
      const response = route(new Request("http://echo.test/", { method }), OPTIONS);
      assert.equal(response.status, 405);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal(await response.text(), `Method ${method} is not allowed here; use GET\n`);
    });
  }

  for (
    const [path, pathname] of [
      ["/nope", "/nope"],
      ["/index.html", "/index.html"],
      ["/a/b?x=1", "/a/b"],
      ["/healthz/", "/healthz/"],
      ["/Metrics", "/Metrics"],
    ]
  ) {
    test(`GET ${path} answers 404 naming ${pathname}`, async () => {
      const response = route(new Request(`http://echo.test${path}`), OPTIONS);
      assert.equal(response.status, 404);
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal(await response.text(), `Not found: ${pathname}\n`);
    });
  }

  test("an unknown path answers 404 whatever the method", () => {
    assert.equal(route(new Request("http://echo.test/x", { method: "POST" }), OPTIONS).status, 404);
  });
});
