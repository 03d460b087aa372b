import { test } from "node:test";
import assert from "node:assert/strict";
import { type Config, DEFAULTS } from "./config.ts";
import { captureConnection } from "./connection.ts";
import type { Context } from "./context.ts";
import { bunExtensions } from "./deflate.ts";
import { route } from "./routes.ts";
import { testContext, type TestContextOptions } from "./testing_context.ts";

const SEED_KEY = "1CrKNZMpvvE2RDF4Aa866w==";

/** A Deno server's context with two live connections, tagged "mine" and "theirs". */
function twoConnections(config: Partial<Config> = {}, options: TestContextOptions = {}): Context {
  const { context } = testContext(config, { runtime: "Deno 2.9.6", ...options });
  const registry = context.registry;
  for (const [tag, ua] of [["mine", "My Browser"], ["theirs", "Their Browser"]]) {
    const request = new Request(`http://echo.test/?tag=${tag}`, {
      headers: { "sec-websocket-key": SEED_KEY, "user-agent": ua, origin: "https://site.example" },
    });
    const connection = captureConnection(request, {
      id: registry.nextId(),
      remoteAddress: "192.0.2.7",
      protocol: "chat",
      extensions: "",
    });
    registry.opened();
    context.hub.add({ connection, hubSlot: -1, close() {}, keepalive() {} });
  }
  return context;
}

/** GETs `url` with the Host header every HTTP/1.1 request carries, and `headers`. */
async function info(url: string, context: Context, headers: Record<string, string> = {}) {
  const request = new Request(url, { headers: { host: new URL(url).host, ...headers } });
  const response = await route(request, context);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  return await response.json();
}

test("/info names the runtime, Echo's version, the configuration and the totals", async () => {
  const body = await info("http://echo.test/info", twoConnections());
  assert.deepEqual(body.runtime, { name: "Deno", version: "2.9.6" });
  assert.equal(body.echo.version, "0.1.0");
  assert.deepEqual(body.config, DEFAULTS);
  assert.equal(body.totals.connections, 2);
  assert.equal(body.live.length, 2);
  assert.equal(body.dryRun, undefined, "no handshake headers, no dry run");
});

test("by default other connections are listed without address, tag or identifying headers", async () => {
  const body = await info("http://echo.test/info", twoConnections());
  const text = JSON.stringify(body.live);
  for (
    const secret of [
      "192.0.2.7",
      "Their Browser",
      "My Browser",
      SEED_KEY,
      "site.example",
      "theirs",
      "GV9ZWv2A",
    ]
  ) {
    assert.ok(!text.includes(secret), `${secret} is not shown`);
  }
  assert.equal(body.live[0].response.protocol, "chat", "what was negotiated is still shown");
});

test("INFO_DETAILS=full shows everything", async () => {
  const body = await info("http://echo.test/info", twoConnections({ infoDetails: "full" }));
  assert.equal(body.live[1].request.userAgent, "Their Browser");
  assert.equal(body.live[1].remoteAddress, "192.0.2.7");
  assert.equal(body.live[1].response.accept, "GV9ZWv2AENn5HFPL/OnNHijnKcI=");
});

test("/info?tag= shows only that tag's connections, in full", async () => {
  const body = await info("http://echo.test/info?tag=mine", twoConnections());
  assert.equal(body.live.length, 1);
  assert.equal(body.live[0].tag, "mine");
  assert.equal(body.live[0].request.userAgent, "My Browser");
  assert.equal(body.live[0].request.key, SEED_KEY);
  assert.equal(body.live[0].response.accept, "GV9ZWv2AENn5HFPL/OnNHijnKcI=");
});

test("a GET /info with handshake headers gets a dry run: accept, protocol, extensions", async () => {
  const headers = {
    "sec-websocket-key": SEED_KEY,
    "sec-websocket-extensions": "permessage-deflate; client_max_window_bits",
    "sec-websocket-protocol": "chat, superchat",
  };
  const bun = await info(
    "http://echo.test/info",
    twoConnections({}, { runtime: "Bun 1.4.5", extensions: bunExtensions("shared") }),
    headers,
  );
  assert.deepEqual(bun.dryRun.response, {
    "Sec-WebSocket-Accept": "GV9ZWv2AENn5HFPL/OnNHijnKcI=",
    "Sec-WebSocket-Protocol": "chat",
    "Sec-WebSocket-Extensions": "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
  });
  const deno = await info("http://echo.test/info", twoConnections(), headers);
  assert.equal(deno.dryRun.status, 101);
  assert.equal(deno.dryRun.response["Sec-WebSocket-Extensions"], undefined);
  assert.match(deno.dryRun.extensionsNote, /Deno's native WebSocket does not implement permessage-deflate/);
});

test("a dry run with a bad key answers what the upgrade would: 400 and the reason", async () => {
  const body = await info("http://echo.test/info", twoConnections(), { "sec-websocket-key": "abc" });
  assert.equal(body.dryRun.status, 400);
  assert.match(body.dryRun.reason, /Sec-WebSocket-Key/);
});
