/**
 * The HTTP echo on both entries, with real clients: curl (the issue's own command lines), fetch and
 * node:http; and behind Debian's nginx with TRUST_PROXY, where it shows the client's address and
 * the X-Forwarded-* headers nginx wrote.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { ENTRIES, logLines, type RunningServer, runToExit, startServer } from "./support/server.ts";
import { type RunningNginx, startNginx } from "./support/nginx.ts";
import { handshakeHeaders, RawClient } from "./support/raw.ts";

/** What Echo on Bun says beside every path (bun/server.ts), since Bun normalises paths before Echo sees them. */
const BUN_PATH_NOTE =
  "Bun resolves . and .. segments (also written %2e) and reads \\ as / before Echo sees the request, so the path sent may have had them";

const MAX = 100_000;

/** Runs curl and resolves with its stdout (curl prints the status last with -w). */
function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      "curl",
      ["-sS", ...args],
      { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) reject(error);
        else resolve(stdout.toString("utf8"));
      },
    )
  );
}

/** Sends one request with node:http, the body in `chunks` (chunked unless Content-Length is given). */
function nodeRequest(
  url: string,
  options: { method: string; headers?: Record<string, string>; chunks: Uint8Array[] },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method, headers: options.headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => body += chunk);
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    // The server may answer 413 and close before the whole body is written.
    req.on("error", (error) => (error as NodeJS.ErrnoException).code === "EPIPE" ? undefined : reject(error));
    for (const chunk of options.chunks) req.write(chunk);
    req.end();
  });
}

const dir = mkdtempSync(join(tmpdir(), "echo-http-"));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const entry of ENTRIES) {
  describe(`HTTP echo on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer(entry, { env: { MAX_MESSAGE_BYTES: String(MAX), LOG_FORMAT: "json" } });
    });
    after(() => server?.stop());

    // Raw TCP: curl (without --path-as-is), fetch and node:http would resolve the dot segments themselves.
    test("a path with dot segments: as sent on Deno; on Bun as Bun gave it, with a note saying so", async () => {
      const shown: Record<string, unknown> = {};
      for (const target of ["/a/../b", "/%7Efoo/%2e%2e/x"]) {
        const answer = await RawClient.open(server.port, [["Host", "localhost"], ["Connection", "close"]], {
          path: target,
        });
        answer.destroy();
        assert.equal(answer.response.status, 200);
        const body = JSON.parse(answer.response.body);
        shown[target] = { path: body.path, pathNote: body.pathNote };
      }
      if (entry.name === "deno") {
        assert.deepEqual(shown, {
          "/a/../b": { path: "/a/../b", pathNote: undefined },
          "/%7Efoo/%2e%2e/x": { path: "/%7Efoo/%2e%2e/x", pathNote: undefined },
        });
      } else {
        assert.deepEqual(shown, {
          "/a/../b": { path: "/b", pathNote: BUN_PATH_NOTE },
          "/%7Efoo/%2e%2e/x": { path: "/x", pathNote: BUN_PATH_NOTE },
        });
      }
    });

    test("a WebSocket's path with dot segments in /info: as sent on Deno; on Bun as Bun gave it, with the note", async () => {
      const tag = `dots-${randomBytes(4).toString("hex")}`;
      const ws = await RawClient.open(server.port, handshakeHeaders(), { path: `/a/../b?tag=${tag}` });
      assert.equal(ws.response.status, 101);
      const answer = await RawClient.open(server.port, [["Host", "localhost"], ["Connection", "close"]], {
        path: `/info?tag=${tag}`,
      });
      answer.destroy();
      ws.destroy();
      const [record] = JSON.parse(answer.response.body).live;
      assert.deepEqual(
        { path: record.path, pathNote: record.pathNote },
        entry.name === "deno"
          ? { path: "/a/../b", pathNote: undefined }
          : { path: "/b", pathNote: BUN_PATH_NOTE },
      );
    });

    test("curl POST with repeated headers and a text body: method, path, query, both values in order", async () => {
      const file = join(dir, `f-${entry.name}`);
      writeFileSync(file, "héllo, echo\n");
      const out = await curl([
        "-X",
        "POST",
        `${server.http}/a/b?x=1`,
        "-H",
        "X-A: 1",
        "-H",
        "X-A: 2",
        "--data-binary",
        `@${file}`,
      ]);
      const echoed = JSON.parse(out);
      assert.equal(echoed.method, "POST");
      assert.equal(echoed.path, "/a/b");
      assert.deepEqual(echoed.query, { x: "1" });
      // Both runtimes join a repeated header's values in the order received (docs/http.md).
      assert.equal(echoed.headers["x-a"], "1, 2");
      assert.deepEqual(echoed.body, { size: 13, encoding: "utf-8", content: "héllo, echo\n" });
      assert.equal(echoed.remoteAddress, "127.0.0.1");
      assert.equal(echoed.tls, false);
      assert.match(echoed.servedBy.runtime, entry.name === "deno" ? /^Deno / : /^Bun /);
    });

    test("an application's query with knob names is echoed as sent, never read as knobs", async () => {
      const response = await fetch(`${server.http}/api?status=active&delay=soon&header=x`);
      assert.equal(response.status, 200);
      const echoed = await response.json();
      assert.equal(echoed.path, "/api");
      assert.deepEqual(echoed.query, { status: "active", delay: "soon", header: "x" });
    });

    test("echo_header=Content-Type:text/plain answers with exactly that content type", async () => {
      const response = await fetch(`${server.http}/x?echo_header=Content-Type:text/plain`);
      assert.equal(response.headers.get("content-type"), "text/plain");
      await response.body?.cancel();
    });

    test("a binary body round-trips through base64", async () => {
      const bytes = new Uint8Array(randomBytes(5000));
      bytes[0] = 0xff; // never valid UTF-8
      const file = join(dir, `bin-${entry.name}`);
      writeFileSync(file, bytes);
      const echoed = JSON.parse(await curl(["-X", "PUT", `${server.http}/bin`, "--data-binary", `@${file}`]));
      assert.equal(echoed.body.encoding, "base64");
      assert.equal(echoed.body.size, 5000);
      assert.deepEqual(new Uint8Array(Buffer.from(echoed.body.content, "base64")), bytes);
    });

    test("?echo_status=418&echo_delay=200 answers 418 after at least 200 ms; ?echo_status=banana is 400 naming status", async () => {
      const start = performance.now();
      const response = await fetch(`${server.http}/teapot?echo_status=418&echo_delay=200`);
      await response.body?.cancel();
      assert.equal(response.status, 418);
      assert.ok(performance.now() - start >= 199, `answered after ${performance.now() - start} ms`);
      const bad = await fetch(`${server.http}/x?echo_status=banana`);
      assert.equal(bad.status, 400);
      assert.match(
        await bad.text(),
        /^query parameter echo_status: expected a whole number from 200 to 599\n$/,
      );
    });

    test("X-Echo- headers set status, response headers and a response body size; HEAD gets headers only", async () => {
      const response = await fetch(`${server.http}/k`, {
        headers: {
          "X-Echo-Status": "201",
          "X-Echo-Header": "X-One: 1, X-Two: a, b",
          "X-Echo-Body-Bytes": "70000",
        },
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("x-one"), "1");
      assert.equal(response.headers.get("x-two"), "a, b");
      assert.equal((await response.arrayBuffer()).byteLength, 70000);
      const head = await fetch(`${server.http}/k?echo_body_bytes=1234`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), "1234");
      assert.equal((await head.arrayBuffer()).byteLength, 0);
    });

    test("Accept: text/plain gets the request as text", async () => {
      const text = await curl(["-H", "Accept: text/plain", "-d", "body!", `${server.http}/t?q=1`]);
      assert.match(text, /^Request served by Echo/);
      assert.match(text, /^POST \/t\?q=1$/m);
      assert.match(text, /^content-length: 5$/m);
      assert.match(text, /\n\nbody!\n$/);
    });

    test("a body over MAX_MESSAGE_BYTES gets 413, by Content-Length or counted as it streams", async () => {
      const big = new Uint8Array(MAX + 1);
      const sized = await nodeRequest(`${server.http}/big`, {
        method: "POST",
        headers: { "content-length": String(big.byteLength) },
        chunks: [big],
      });
      assert.equal(sized.status, 413);
      assert.match(sized.body, /over MAX_MESSAGE_BYTES \(100000\)/);
      const chunked = await nodeRequest(`${server.http}/big`, {
        method: "POST",
        chunks: Array.from({ length: 30 }, () => new Uint8Array(10_000)),
      });
      assert.equal(chunked.status, 413);
      assert.match(chunked.body, /more than 100000 bytes/);
      // The server keeps serving.
      assert.equal((await fetch(`${server.http}/after`)).status, 200);
    });

    test("CORS: a preflight is answered and the answer is readable by any origin", async () => {
      const preflight = await fetch(`${server.http}/x`, {
        method: "OPTIONS",
        headers: {
          Origin: "https://app.example",
          "Access-Control-Request-Method": "PUT",
          "Access-Control-Request-Headers": "x-echo-status, content-type",
        },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
      assert.equal(preflight.headers.get("access-control-allow-methods"), "PUT");
      assert.equal(preflight.headers.get("access-control-allow-headers"), "x-echo-status, content-type");
      const actual = await fetch(`${server.http}/x`, {
        method: "PUT",
        headers: { Origin: "https://app.example" },
      });
      assert.equal(actual.headers.get("access-control-allow-origin"), "*");
      await actual.body?.cancel();
    });

    test("every answer is logged and counted in /metrics", async () => {
      await (await fetch(`${server.http}/counted?echo_status=202`)).body?.cancel();
      const metrics = await (await fetch(`${server.http}/metrics`)).text();
      assert.match(metrics, /^echo_http_requests_total\{service="echo",code="202"\} 1$/m);
      // Log lines are batched for up to 50 ms.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const line = logLines(server).find((l) => l.event === "http" && l.path === "/counted");
      assert.equal(line?.status, 202);
      assert.equal(line?.service, "echo");
    });
    test("curl with a Bearer JWT: its header and claims decoded and marked unverified; a malformed one is reported", async () => {
      const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
      const claims = { sub: "user-42", name: "Zoë", roles: ["admin"], exp: 4102444800 };
      const token = `${part({ alg: "ES256", typ: "JWT", kid: "key-1" })}.${part(claims)}.${"c2lnbmF0dXJl"}`;
      const echoed = JSON.parse(
        await curl(["-H", `Authorization: Bearer ${token}`, `${server.http}/api/me`]),
      );
      assert.deepEqual(echoed.jwt, {
        header: { alg: "ES256", typ: "JWT", kid: "key-1" },
        payload: claims,
        verified: false,
      });
      const text = await curl([
        "-H",
        "Accept: text/plain",
        "-H",
        `Authorization: Bearer ${token}`,
        `${server.http}/me`,
      ]);
      assert.match(text, /^jwt \(not verified\): header \{"alg":"ES256","typ":"JWT","kid":"key-1"\}$/m);
      assert.match(
        text,
        new RegExp(`^jwt \\(not verified\\): payload ${RegExp.escape(JSON.stringify(claims))}$`, "m"),
      );
      const malformed = await fetch(`${server.http}/api/me`, {
        headers: { Authorization: "Bearer abc.def" },
      });
      assert.equal(malformed.status, 200, "a malformed token is reported, never an error status");
      assert.deepEqual((await malformed.json()).jwt, {
        error: "not a JWT: 2 parts, expected header.payload.signature",
      });
      const basic = JSON.parse(await curl(["-u", "u:p", `${server.http}/api/me`]));
      assert.equal(basic.jwt, undefined, "Basic credentials are not a JWT");
    });

    test("the body knobs return exactly the body and content type asked for", async () => {
      // Query: UTF-8 text, with the type from echo_header.
      const json = await fetch(
        `${server.http}/b?echo_body=${encodeURIComponent('{"ok":true,"név":"é"}')}` +
          `&echo_header=Content-Type:application/json&echo_status=201`,
      );
      assert.equal(json.status, 201);
      assert.equal(json.headers.get("content-type"), "application/json");
      assert.equal(await json.text(), '{"ok":true,"név":"é"}');
      // Header, UTF-8 as sent by curl; the default type for text.
      const html = await curl(["-i", "-H", "X-Echo-Body: <p>héllo</p>", `${server.http}/b`]);
      assert.match(html, /^content-type: text\/plain; charset=utf-8\r$/im);
      assert.match(html, /^content-length: 13\r$/im);
      assert.ok(html.endsWith("\r\n\r\n<p>héllo</p>"), html);
      // Base64: arbitrary bytes, application/octet-stream unless a type is named.
      const bytes = new Uint8Array(randomBytes(3000));
      const binary = await fetch(
        `${server.http}/b?echo_body_base64=${encodeURIComponent(Buffer.from(bytes).toString("base64"))}`,
      );
      assert.equal(binary.headers.get("content-type"), "application/octet-stream");
      assert.deepEqual(new Uint8Array(await binary.arrayBuffer()), bytes);
      const png = await fetch(`${server.http}/b`, {
        headers: { "X-Echo-Body-Base64": "iVBORw0KGgo=", "X-Echo-Header": "Content-Type: image/png" },
      });
      assert.equal(png.headers.get("content-type"), "image/png");
      assert.deepEqual([...new Uint8Array(await png.arrayBuffer())], [
        0x89,
        0x50,
        0x4e,
        0x47,
        13,
        10,
        26,
        10,
      ]);
      // HEAD: the length, no body.
      const head = await fetch(`${server.http}/b?echo_body=four`, { method: "HEAD" });
      assert.equal(head.headers.get("content-length"), "4");
      assert.equal((await head.arrayBuffer()).byteLength, 0);
      // One body knob at a time (the MAX_MESSAGE_BYTES bound is in lib/http/echo_test.ts: a URL that long
      // is refused by the clients first).
      const both = await fetch(`${server.http}/b?echo_body=a&echo_body_bytes=5`);
      assert.equal(both.status, 400);
      assert.match(
        await both.text(),
        /^query parameter echo_body_bytes: give one of echo_body, echo_body_base64/,
      );
      const bad = await fetch(`${server.http}/b?echo_body_base64=not*base64`);
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /^query parameter echo_body_base64: expected base64/);
    });
  });

  describe(`who answered, on ${entry.name}`, () => {
    /** The host named in each answer: the HTTP echo (JSON and text), `curl /`, /info and SSE's server event. */
    async function namedHost(server: RunningServer): Promise<string | null> {
      const echoed = JSON.parse(await curl([`${server.http}/anything`]));
      const text = await curl(["-H", "Accept: text/plain", `${server.http}/anything`]);
      const landing = await curl([`${server.http}/`]);
      const info = await (await fetch(`${server.http}/info?limit=0`)).json();
      const sse = await curl(["-N", `${server.http}/sse?count=1`]);
      const process = `${echoed.servedBy.runtime}, pid ${echoed.servedBy.pid}, id ${echoed.servedBy.id}`;
      const host = echoed.servedBy.hostname ?? "an unnamed host";
      assert.equal(text.split("\n")[0], `Request served by Echo on ${host} (${process})`);
      assert.equal(landing.split("\n")[1], `Served by ${host} (${process}).`);
      assert.match(
        landing,
        /^Connect a WebSocket client to ws:\/\/127\.0\.0\.1:\d+\/$/m,
        "and how to connect",
      );
      assert.deepEqual(info.process, {
        hostname: echoed.servedBy.hostname,
        pid: echoed.servedBy.pid,
        id: echoed.servedBy.id,
      });
      assert.match(
        sse,
        new RegExp(`^event: server\ndata: ${RegExp.escape(JSON.stringify(echoed.servedBy))}$`, "m"),
      );
      return echoed.servedBy.hostname;
    }

    test("HOSTNAME from the environment (as container runtimes and Kubernetes set it) is named everywhere", async () => {
      const server = await startServer(entry, { env: { HOSTNAME: "echo-7d9f8c-x2kq", LOG_FORMAT: "json" } });
      try {
        assert.equal(await namedHost(server), "echo-7d9f8c-x2kq");
        const listening = logLines(server).find((line) => line.event === "listening");
        assert.equal(listening?.hostname, "echo-7d9f8c-x2kq", "and in the listening line");
      } finally {
        await server.stop();
      }
    });

    test("without HOSTNAME: the kernel's hostname where the runtime may read it", async () => {
      // Deno reads it with --allow-sys=hostname only; Bun has no permissions.
      const server = await startServer(entry, {
        env: { HOSTNAME: "" },
        permissions: ["--allow-sys=hostname"],
      });
      try {
        assert.equal(await namedHost(server), hostname());
      } finally {
        await server.stop();
      }
    });

    if (entry.name === "deno") {
      test("Deno with neither HOSTNAME nor --allow-sys: serves, asks for nothing, names no host", async () => {
        const server = await startServer(entry, { env: { HOSTNAME: "" } });
        try {
          assert.equal(await namedHost(server), null);
          assert.doesNotMatch(server.output(), /allow-sys|permission|prompt/i);
        } finally {
          await server.stop();
        }
      });
    }
  });

  describe(`HTTP echo on ${entry.name} with KNOBS=off and ALLOWED_ORIGINS`, () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer(entry, { env: { KNOBS: "off", ALLOWED_ORIGINS: "https://ok.example" } });
    });
    after(() => server?.stop());

    test("a knob is refused with 403 naming it; other queries are echoed", async () => {
      const refused = await fetch(`${server.http}/x?echo_delay=5`);
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /^query parameter echo_delay: test knobs are disabled/);
      assert.equal((await (await fetch(`${server.http}/x?y=5`)).json()).query.y, "5");
    });

    test("only a listed origin is answered, and named in Access-Control-Allow-Origin", async () => {
      const ok = await fetch(`${server.http}/x`, { headers: { Origin: "https://ok.example" } });
      assert.equal(ok.headers.get("access-control-allow-origin"), "https://ok.example");
      await ok.body?.cancel();
      const other = await fetch(`${server.http}/x`, { headers: { Origin: "https://evil.example" } });
      assert.equal(other.status, 403);
      assert.match(await other.text(), /ALLOWED_ORIGINS/);
    });
  });

  describe(`HTTP echo on ${entry.name} with DEFAULT_STATUS and RESPONSE_HEADERS`, () => {
    let server: RunningServer;
    before(async () => {
      server = await startServer(entry, {
        env: { DEFAULT_STATUS: "203", RESPONSE_HEADERS: "X-Served-By: echo-test\nCache-Control: max-age=5" },
      });
    });
    after(() => server?.stop());

    test("every echo answer gets the status and the headers; a request's knobs win", async () => {
      const plainEcho = await fetch(`${server.http}/anything`);
      assert.equal(plainEcho.status, 203);
      assert.equal(plainEcho.headers.get("x-served-by"), "echo-test");
      assert.equal(plainEcho.headers.get("cache-control"), "max-age=5");
      assert.equal((await plainEcho.json()).path, "/anything");
      const asked = await fetch(`${server.http}/x?echo_status=200&echo_header=X-Served-By:me`);
      assert.equal(asked.status, 200);
      assert.equal(asked.headers.get("x-served-by"), "me");
      await asked.body?.cancel();
      const refused = await fetch(`${server.http}/x?echo_status=banana`);
      assert.equal(refused.status, 400);
      assert.equal(refused.headers.get("x-served-by"), "echo-test");
      await refused.body?.cancel();
      const health = await fetch(`${server.http}/healthz`);
      assert.equal(health.headers.get("x-served-by"), null, "Echo's own routes are not the echo");
      await health.body?.cancel();
    });

    test("a bad value stops start-up with one line naming the option, status 2", async () => {
      const { code, stderr } = await runToExit(entry, { env: { RESPONSE_HEADERS: "Content-Length: 3" } });
      assert.equal(code, 2);
      assert.equal(
        stderr.trim(),
        'echo: RESPONSE_HEADERS: Content-Length frames the message and is set by the server, got "Content-Length: 3"',
      );
    });
  });

  describe(`HTTP echo on ${entry.name} behind nginx with TRUST_PROXY`, () => {
    let server: RunningServer;
    let nginx: RunningNginx;
    before(async () => {
      server = await startServer(entry, { env: { TRUST_PROXY: "x-forwarded-for" } });
      nginx = await startNginx(server.port);
    });
    after(async () => {
      await nginx?.stop();
      await server?.stop();
    });

    test("shows the client's address and the X-Forwarded-* headers nginx sent", async () => {
      // From 127.0.0.2 to nginx, from 127.0.0.1 to Echo: the two addresses differ (tests/nginx_test.ts).
      const out = await curl([
        "--interface",
        "127.0.0.2",
        "-H",
        "X-Forwarded-For: 6.6.6.6",
        `http://127.0.0.1:${nginx.port}/through/nginx?x=1`,
      ]);
      const echoed = JSON.parse(out);
      assert.equal(echoed.remoteAddress, "127.0.0.2", await nginx.errors());
      assert.equal(echoed.headers["x-forwarded-for"], "6.6.6.6, 127.0.0.2");
      assert.equal(echoed.headers["x-forwarded-proto"], "http");
      assert.equal(echoed.headers.forwarded, "for=127.0.0.2;proto=http");
      assert.equal(echoed.path, "/through/nginx");
    });
  });
}
