import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { route } from "./routes.ts";

const OPTIONS = { runtime: "TestRuntime 1.2.3" };

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

  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    test(`${method} / answers 405 with Allow: GET, HEAD`, async () => {
      const response = route(new Request("http://echo.test/", { method }), OPTIONS);
      assert.equal(response.status, 405);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal(await response.text(), `Method ${method} is not allowed here; use GET\n`);
    });
  }

  for (const [path, pathname] of [["/nope", "/nope"], ["/index.html", "/index.html"], ["/a/b?x=1", "/a/b"]]) {
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
