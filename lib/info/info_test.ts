import { test } from "node:test";
import assert from "node:assert/strict";
import { type Config, DEFAULTS } from "../config.ts";
import { captureConnection } from "../connection.ts";
import type { Context } from "../context.ts";
import { bunExtensions } from "../deflate.ts";
import { Pace } from "../pace.ts";
import { route } from "../http/routes.ts";
import { openSession } from "../session.ts";
import { testConnection, testContext, type TestContextOptions } from "../testing_context.ts";

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
  assert.equal(body.live[0].request.userAgent, "Their Browser", "the newest first");
  assert.equal(body.live[0].remoteAddress, "192.0.2.7");
  assert.equal(body.live[0].response.accept, "GV9ZWv2AENn5HFPL/OnNHijnKcI=");
});

test("/info?tag= shows only that tag's connections, in full", async () => {
  const body = await info("http://echo.test/info?tag=mine", twoConnections());
  assert.equal(body.live.length, 1);
  assert.equal(body.live[0].tag, "mine");
  assert.equal(body.live[0].request.userAgent, "My Browser");
  assert.equal(body.live[0].request.key, SEED_KEY);
  assert.equal(body.live[0].response.accept, "GV9ZWv2AENn5HFPL/OnNHijnKcI=");
});

test("each record carries the runtime's path note where the entry declares one, and none elsewhere", async () => {
  const plain = twoConnections();
  const plainBody = await info("http://echo.test/info?tag=mine", plain);
  assert.equal("pathNote" in plainBody.live[0], false);
  const normalised = twoConnections();
  normalised.pathNote = "the runtime resolves dot segments";
  const body = await info("http://echo.test/info?tag=mine", normalised);
  assert.equal(body.live[0].pathNote, "the runtime resolves dot segments");
  assert.deepEqual(Object.keys(body.live[0]).slice(2, 4), ["path", "pathNote"], "beside the path");
});

test("/info?tag= lists a tagged connection's last messages; other listings and untagged records never", async () => {
  const { context } = testContext({}, { runtime: "Bun 1.4.5" });
  const peer = { send: (m: string | Uint8Array) => m.length, bufferedAmount: () => 0, close() {} };
  for (const url of ["http://echo.test/?tag=logged", "http://echo.test/"]) {
    const connection = captureConnection(new Request(url), {
      id: context.registry.nextId(),
      remoteAddress: "192.0.2.7",
      protocol: undefined,
      extensions: "",
    });
    openSession(peer, connection, context).receive("hello from " + url);
  }
  const mine = await info("http://echo.test/info?tag=logged", context);
  assert.equal(mine.live[0].messageLog.logged, 2);
  assert.deepEqual(mine.live[0].messageLog.messages.map((m: { direction: string }) => m.direction), [
    "received",
    "sent",
  ]);
  assert.equal(mine.live[0].messageLog.messages[0].preview, "hello from http://echo.test/?tag=logged");
  const listing = await info("http://echo.test/info", context);
  assert.ok(listing.live.every((r: object) => !("messageLog" in r)), "nobody else sees the messages");
  assert.match(listing.privacy, /messageLog/);
  const full = await info("http://echo.test/info", {
    ...context,
    config: { ...context.config, infoDetails: "full" },
  });
  const untagged = full.live.find((r: { tag: string | null }) => r.tag === null);
  assert.equal("messageLog" in untagged, false, "an untagged connection keeps no log");
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

/** A context with `live` connections open and `closed` more opened and closed, each tagged `t<id>`. */
function manyConnections(live: number, closed = 0, config: Partial<Config> = {}): Context {
  const { context } = testContext(config);
  const { registry, hub } = context;
  const open = (id: number) => {
    const connection = testConnection(id, `http://echo.test/?tag=t${id}`);
    registry.opened();
    const member = { connection, hubSlot: -1, close() {}, keepalive() {} };
    hub.add(member);
    return member;
  };
  // Interleaved, and closed out of id order: the registry keeps closes in the order they happen.
  const toClose = [];
  assert.ok(closed <= live + 1, "every other connection at most closes");
  for (let i = 0; i < live + closed; i++) {
    const member = open(registry.nextId());
    if (i % 2 === 1 && toClose.length < closed) toClose.push(member);
  }
  for (const member of toClose.reverse()) {
    hub.remove(member);
    registry.closed(member.connection, { code: 1000, reason: "", closedBy: "client" });
  }
  return context;
}

async function status(url: string, context: Context): Promise<[number, string]> {
  const response = await route(new Request(url), context);
  return [response.status, await response.text()];
}

test("/info lists at most INFO_LIMIT of each list, newest first, with exact counts", async () => {
  const context = manyConnections(120, 30, { infoLimit: 50 });
  const body = await info("http://echo.test/info", context);
  assert.deepEqual(body.counts, { live: 120, recent: 30 });
  assert.equal(body.totals.connections, 150);
  assert.equal(body.live.length, 50);
  assert.equal(body.recent.length, 30);
  const ids = body.live.map((r: { id: number }) => r.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), "live: newest id first");
  assert.equal(ids[0], Math.max(...context.hub.connections().map((c) => c.id)));
  // Recent: the last to close first.
  assert.deepEqual(
    body.recent.map((r: { id: number }) => r.id),
    context.registry.recent.map((c) => c.id).reverse(),
  );
  assert.deepEqual(body.page, { limit: 50, next: "/info?limit=50&cursor=" + `${ids.at(-1)}.0` });
});

test("following page.next lists every live and recent connection exactly once", async () => {
  const context = manyConnections(95, 40);
  const live: number[] = [];
  const recent: number[] = [];
  let url: string | null = "/info?limit=20";
  for (let pages = 0; url !== null; pages++) {
    assert.ok(pages < 10, "the pages end");
    const body: { live: { id: number }[]; recent: { id: number }[]; page: { next: string | null } } =
      await info("http://echo.test" + url, context);
    live.push(...body.live.map((r) => r.id));
    recent.push(...body.recent.map((r) => r.id));
    url = body.page.next;
  }
  assert.deepEqual(live, context.hub.connections().map((c) => c.id).sort((a, b) => b - a));
  assert.deepEqual(recent, context.registry.recent.map((c) => c.id).reverse());
});

test("limit=0 answers the totals and counts alone", async () => {
  const body = await info("http://echo.test/info?limit=0", manyConnections(10, 5));
  assert.deepEqual([body.live, body.recent, body.counts], [[], [], { live: 10, recent: 5 }]);
  assert.deepEqual(body.page, { limit: 0, next: null });
});

test("a tag lookup finds its connection among thousands, in full, and counts only its matches", async () => {
  const context = manyConnections(3000, 100);
  const wanted = context.hub.connections()[1234];
  const body = await info(`http://echo.test/info?tag=t${wanted.id}`, context);
  assert.deepEqual(body.counts, { live: 1, recent: 0 });
  assert.equal(body.live[0].id, wanted.id);
  assert.equal(body.live[0].remoteAddress, "127.0.0.1", "in full");
  assert.equal(body.page.next, null);
  const gone = context.registry.recent[3];
  const closed = await info(`http://echo.test/info?tag=t${gone.id}`, context);
  assert.deepEqual(closed.counts, { live: 0, recent: 1 });
  assert.equal(closed.recent[0].closed.code, 1000);
});

test("with 3,000 live and 100 recent connections the default /info stays under 64 KB", async () => {
  const response = await route(new Request("http://echo.test/info"), manyConnections(3000, 100));
  const bytes = (await response.arrayBuffer()).byteLength;
  assert.ok(bytes <= 64 * 1024, `${bytes} bytes`);
});

test("a bad limit or cursor is a 400 naming it", async () => {
  const context = manyConnections(3);
  for (const query of ["limit=abc", "limit=-1", "limit=26", "limit=", "limit=1e3"]) {
    const [code, text] = await status(`http://echo.test/info?${query}`, context);
    assert.equal(code, 400, query);
    assert.match(
      text,
      /^limit: expected a whole number from 0 to 25 \(the server's INFO_LIMIT\), got ".*"\n$/,
      query,
    );
  }
  for (const query of ["cursor=abc", "cursor=12", "cursor=1.2.3", "cursor=", "cursor=-1.0"]) {
    const [code, text] = await status(`http://echo.test/info?${query}`, context);
    assert.equal(code, 400, query);
    assert.match(text, /^cursor: expected the cursor of an earlier answer's page\.next/, query);
  }
});

test("listings take turns: beyond the waiting bound a 503 with Retry-After, while a tag lookup never waits", async () => {
  const context = manyConnections(10);
  context.infoPace = new Pace(60_000, 0);
  assert.equal((await status("http://echo.test/info", context))[0], 200, "the first turn is at once");
  const response = await route(new Request("http://echo.test/info"), context);
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "1");
  assert.match(
    await response.text(),
    /^\/info is busy: 0 requests wait for their turn \(one page every 60000 ms\)/,
  );
  const own = context.hub.connections()[3];
  assert.equal((await status(`http://echo.test/info?tag=t${own.id}`, context))[0], 200);
  assert.equal((await status("http://echo.test/info?limit=4", context))[0], 200, "four records are free");
});

test("a listing that waited for its turn shows the connections as they are then", async () => {
  const context = manyConnections(10);
  context.infoPace = new Pace(30, 5);
  await info("http://echo.test/info", context);
  const waiting = info("http://echo.test/info", context);
  const member = context.hub.sessions[0];
  const connection = member.connection!;
  context.hub.remove(member);
  context.registry.closed(connection, { code: 1001, reason: "", closedBy: "server" });
  const body = await waiting;
  assert.deepEqual(body.counts, { live: 9, recent: 1 });
  assert.ok(!body.live.some((r: { id: number }) => r.id === connection.id));
});
