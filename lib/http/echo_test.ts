import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeBody, httpEcho, renderText, wantsText } from "./echo.ts";
import { testContext } from "../testing_context.ts";

const PEER = "192.0.2.9";

describe("httpEcho", () => {
  test("reports method, raw path, query and headers as a multimap, body, client and TLS", async () => {
    const { context } = testContext();
    const headers = new Headers([["x-a", "1"], ["x-a", "2"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
    const request = new Request("https://echo.test/a/%7Eb?x=1&x=2&y=", {
      method: "POST",
      headers,
      body: "hi",
    });
    const response = await httpEcho(request, context, PEER);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    assert.match(response.headers.get("content-security-policy") ?? "", /sandbox/);
    const body = await response.json();
    assert.equal(body.method, "POST");
    assert.equal(body.path, "/a/%7Eb", "as sent, not decoded");
    assert.deepEqual(body.query, { x: ["1", "2"], y: "" });
    assert.equal(body.headers["x-a"], "1, 2", "Headers joins repeats in order");
    assert.deepEqual(body.headers["set-cookie"], ["a=1", "b=2"], "Set-Cookie values are kept apart");
    assert.deepEqual(body.body, { size: 2, encoding: "utf-8", content: "hi" });
    assert.equal(body.remoteAddress, PEER);
    assert.equal(body.tls, true);
    assert.equal(body.servedBy.runtime, "Test 1");
    assert.equal(body.servedBy.hostname, null, "no hostname given: reported as unknown");
    assert.equal(body.jwt, undefined, "no Bearer token: no jwt field");
  });

  test("servedBy names the host, in JSON and in the text form's first line", async () => {
    const { context } = testContext({}, { hostname: "pod-7f9c" });
    const json = await (await httpEcho(new Request("http://echo.test/"), context, PEER)).json();
    assert.deepEqual(json.servedBy, {
      hostname: "pod-7f9c",
      runtime: "Test 1",
      pid: context.process.pid,
      id: context.process.id,
    });
    const text = await (await httpEcho(
      new Request("http://echo.test/", { headers: { accept: "text/plain" } }),
      context,
      PEER,
    )).text();
    assert.equal(
      text.split("\n")[0],
      `Request served by Echo on pod-7f9c (Test 1, pid ${context.process.pid}, id ${context.process.id})`,
    );
  });

  test("a Bearer JWT is decoded in JSON and text, unverified; a malformed one is reported with 200", async () => {
    const { context } = testContext();
    const part = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "");
    const token = `${part({ alg: "RS256", kid: "k1" })}.${part({ sub: "alice", exp: 1 })}.c2ln`;
    const request = (authorization: string, accept = "*/*") =>
      new Request("http://echo.test/api", { headers: { authorization, accept } });
    const json = await (await httpEcho(request(`Bearer ${token}`), context, PEER)).json();
    assert.deepEqual(json.jwt, {
      header: { alg: "RS256", kid: "k1" },
      payload: { sub: "alice", exp: 1 },
      verified: false,
    });
    assert.equal(json.headers.authorization, `Bearer ${token}`, "the header itself is echoed as before");
    const text = await (await httpEcho(request(`Bearer ${token}`, "text/plain"), context, PEER)).text();
    assert.match(text, /^jwt \(not verified\): header \{"alg":"RS256","kid":"k1"\}$/m);
    assert.match(text, /^jwt \(not verified\): payload \{"sub":"alice","exp":1\}$/m);
    const bad = await httpEcho(request("Bearer not-a-jwt"), context, PEER);
    assert.equal(bad.status, 200);
    assert.match((await bad.json()).jwt.error, /^not a JWT/);
    const badText = await (await httpEcho(request("Bearer x.y", "text/plain"), context, PEER)).text();
    assert.match(badText, /^jwt: not decoded: not a JWT: 2 parts/m);
    const basic = await (await httpEcho(request("Basic dTpw"), context, PEER)).json();
    assert.equal(basic.jwt, undefined, "another scheme: no jwt field");
  });

  test("the body knobs answer exactly the bytes and type asked for; HEAD and 204 keep their rules", async () => {
    const { context } = testContext({ maxMessageBytes: 16 });
    const get = (url: string, init: RequestInit = {}) => httpEcho(new Request(url, init), context, PEER);
    const text = await get("http://echo.test/x?echo_body=h%C3%A9llo%20%2B%20you");
    assert.equal(text.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(text.headers.get("content-length"), "12", "the UTF-8 bytes");
    assert.equal(await text.text(), "héllo + you");
    assert.equal(
      text.headers.get("content-security-policy"),
      "default-src 'none'; sandbox",
      "still sandboxed",
    );
    const typed = await get(
      "http://echo.test/x?echo_body=%7B%22ok%22%3Atrue%7D&echo_header=Content-Type:application/json&echo_status=201",
    );
    assert.equal(typed.status, 201);
    assert.equal(typed.headers.get("content-type"), "application/json");
    assert.deepEqual(await typed.json(), { ok: true });
    const binary = await get("http://echo.test/x?echo_body_base64=AAH%2B%2Fw%3D%3D");
    assert.equal(binary.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual([...new Uint8Array(await binary.arrayBuffer())], [0, 1, 0xfe, 0xff]);
    // An unencoded + arrives as a space; base64url and a missing padding are read too.
    for (const query of ["AAH+/w==", "AAH-_w", "AAH+/w"]) {
      const answer = await get(`http://echo.test/x?echo_body_base64=${query}`);
      assert.deepEqual([...new Uint8Array(await answer.arrayBuffer())], [0, 1, 0xfe, 0xff], query);
    }
    const header = await get("http://echo.test/x", {
      headers: { "x-echo-body": "<b>hi</b>", "x-echo-header": "Content-Type: text/html" },
    });
    assert.equal(header.headers.get("content-type"), "text/html");
    assert.equal(await header.text(), "<b>hi</b>");
    const empty = await get("http://echo.test/x?echo_body=");
    assert.equal(empty.headers.get("content-length"), "0");
    assert.equal(await empty.text(), "");
    const head = await get("http://echo.test/x?echo_body=abc", { method: "HEAD" });
    assert.equal(head.body, null);
    assert.equal(head.headers.get("content-length"), "3");
    const over = await get("http://echo.test/x?echo_body=12345678901234567");
    assert.equal(over.status, 400);
    assert.equal(await over.text(), "query parameter echo_body: 17 bytes, over MAX_MESSAGE_BYTES (16)\n");
  });

  test("a path note the entry declares (Bun) follows the path in JSON and in text; none by default", async () => {
    const { context } = testContext();
    const request = () => new Request("http://echo.test/b", { headers: { accept: "text/plain" } });
    assert.equal(
      (await (await httpEcho(new Request("http://echo.test/b"), context, PEER)).json()).pathNote,
      undefined,
    );
    assert.doesNotMatch(await (await httpEcho(request(), context, PEER)).text(), /path note/);
    context.pathNote = "the runtime resolves dot segments";
    const body = await (await httpEcho(new Request("http://echo.test/b"), context, PEER)).json();
    assert.deepEqual(Object.keys(body).slice(1, 3), ["path", "pathNote"]);
    assert.equal(body.pathNote, "the runtime resolves dot segments");
    assert.match(
      await (await httpEcho(request(), context, PEER)).text(),
      /\nGET \/b\npath note: the runtime resolves dot segments\nclient: /,
    );
  });

  test("TRUST_PROXY: the address comes from the trusted header", async () => {
    const { context } = testContext({ trustProxy: { header: "x-forwarded-for", hops: 1 } });
    const request = new Request("http://echo.test/", {
      headers: { "x-forwarded-for": "6.6.6.6, 203.0.113.5" },
    });
    assert.equal((await (await httpEcho(request, context, PEER)).json()).remoteAddress, "203.0.113.5");
  });

  test("knobs shape the answer: status, headers, a body of N bytes; HEAD keeps Content-Length", async () => {
    const { context } = testContext();
    const response = await httpEcho(
      new Request("http://echo.test/x?echo_status=503&echo_header=Retry-After:7&echo_body_bytes=100000"),
      context,
      PEER,
    );
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "7");
    assert.equal((await response.arrayBuffer()).byteLength, 100000);
    const head = await httpEcho(new Request("http://echo.test/x", { method: "HEAD" }), context, PEER);
    assert.equal(head.body, null);
    assert.ok(Number(head.headers.get("content-length")) > 100);
    const empty = await httpEcho(new Request("http://echo.test/x?echo_status=204"), context, PEER);
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
  });

  test("the header knob sets the header it names; a repeat of the name adds a value", async () => {
    const { context } = testContext();
    const typed = await httpEcho(
      new Request("http://echo.test/x?echo_header=Content-Type:text/plain"),
      context,
      PEER,
    );
    assert.equal(typed.headers.get("content-type"), "text/plain");
    const cached = await httpEcho(
      new Request("http://echo.test/x?echo_header=Cache-Control:max-age=60&echo_header=Cache-Control:public"),
      context,
      PEER,
    );
    assert.equal(cached.headers.get("cache-control"), "max-age=60, public");
    // The sandbox stays: a policy from a knob is added to Echo's, never put in its place.
    const policy = await httpEcho(
      new Request("http://echo.test/x?echo_header=Content-Security-Policy:script-src%20*"),
      context,
      PEER,
    );
    assert.equal(policy.headers.get("content-security-policy"), "default-src 'none'; sandbox, script-src *");
  });

  test("an application's query is echoed as sent, knob names and all", async () => {
    const { context } = testContext();
    const response = await httpEcho(
      new Request("http://echo.test/api?status=active&delay=soon&header=x"),
      context,
      PEER,
    );
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.deepEqual(body.query, { status: "active", delay: "soon", header: "x" });
  });

  test("an invalid knob is 400 naming it; an oversized body 413; both logged and counted", async () => {
    const { context, events } = testContext({ maxMessageBytes: 3 });
    const bad = await httpEcho(new Request("http://echo.test/x?echo_delay=x"), context, PEER);
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /^query parameter echo_delay: /);
    const big = await httpEcho(
      new Request("http://echo.test/x", { method: "POST", body: "1234" }),
      context,
      PEER,
    );
    assert.equal(big.status, 413);
    assert.equal(context.registry.httpAnswers.get("echo 400"), 1);
    assert.equal(context.registry.httpAnswers.get("echo 413"), 1);
    const logged = events.filter((e) => e.event === "http").map((e) => [e.service, e.status, e.remote]);
    assert.deepEqual(logged, [["echo", 400, PEER], ["echo", 413, PEER]]);
  });

  test("DEFAULT_STATUS and RESPONSE_HEADERS shape every answer; the request's own knobs win", async () => {
    const { context } = testContext({
      defaultStatus: 299,
      responseHeaders: [["X-Fixed", "1"], ["X-Fixed", "2"], ["Cache-Control", "max-age=60"], [
        "Content-Security-Policy",
        "img-src 'none'",
      ]],
    });
    const plainEcho = await httpEcho(new Request("http://echo.test/x"), context, PEER);
    assert.equal(plainEcho.status, 299);
    assert.equal(plainEcho.headers.get("x-fixed"), "1, 2", "a repeated name adds a value");
    assert.equal(plainEcho.headers.get("cache-control"), "max-age=60", "the first of a name replaces Echo's");
    assert.match(
      plainEcho.headers.get("content-security-policy")!,
      /sandbox.*img-src 'none'/,
      "never the sandbox",
    );
    assert.equal((await plainEcho.json()).path, "/x");
    const asked = await httpEcho(
      new Request("http://echo.test/x?echo_status=201&echo_header=X-Fixed:mine"),
      context,
      PEER,
    );
    assert.equal(asked.status, 201);
    assert.equal(asked.headers.get("x-fixed"), "mine");
    await asked.body?.cancel();
    const refused = await httpEcho(new Request("http://echo.test/x?echo_status=1"), context, PEER);
    assert.equal(refused.status, 400, "a refusal keeps its status");
    assert.equal(refused.headers.get("x-fixed"), "1, 2", "and carries the fixed headers");
    await refused.body?.cancel();
  });

  test("a preflight and a foreign origin are answered by the CORS rules", async () => {
    const { context } = testContext({ allowedOrigins: ["https://ok.example"] });
    const preflight = await httpEcho(
      new Request("http://echo.test/x", {
        method: "OPTIONS",
        headers: { origin: "https://ok.example", "access-control-request-method": "PUT" },
      }),
      context,
      PEER,
    );
    assert.equal(preflight.status, 204);
    const foreign = await httpEcho(
      new Request("http://echo.test/x", { headers: { origin: "https://evil.example" } }),
      context,
      PEER,
    );
    assert.equal(foreign.status, 403);
  });
});

describe("echo formats", () => {
  test("the body is text when it is valid UTF-8, else base64", () => {
    assert.deepEqual(encodeBody(new TextEncoder().encode("é")), { size: 2, encoding: "utf-8", content: "é" });
    assert.deepEqual(encodeBody(new Uint8Array([0xff, 0, 1])), {
      size: 3,
      encoding: "base64",
      content: "/wAB",
    });
  });

  test("text/plain is chosen when named before application/json and not refused with q=0", () => {
    assert.ok(wantsText("text/plain"));
    assert.ok(wantsText("text/plain, application/json;q=0.5"));
    assert.ok(!wantsText("application/json, text/plain"));
    assert.ok(!wantsText("text/plain;q=0, */*"));
    assert.ok(!wantsText("*/*"));
    assert.ok(!wantsText(null));
  });

  test("the text form: request line, client, headers, blank line, body", () => {
    const text = renderText({
      method: "PUT",
      path: "/p",
      query: { a: ["1", "2"] },
      headers: { host: "h", "x-a": "1, 2" },
      body: { size: 2, encoding: "base64", content: "/wA=" },
      remoteAddress: "192.0.2.1",
      tls: true,
      servedBy: { hostname: null, runtime: "Test 1", pid: 7, id: "abc" },
    });
    assert.equal(
      text,
      "Request served by Echo on an unnamed host (Test 1, pid 7, id abc)\n\nPUT /p?a=1&a=2\nclient: 192.0.2.1 (TLS)\n\n" +
        "host: h\nx-a: 1, 2\n\n(2 bytes, not UTF-8; base64:)\n/wA=\n",
    );
  });
});
