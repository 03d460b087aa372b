/** `/info` against the real entries: live counters, close codes, the dry run, and privacy. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { handshakeHeaders, RawClient, SEED_ACCEPT, SEED_HEADERS } from "./support/raw.ts";

async function info(server: RunningServer, query = "", headers: Record<string, string> = {}) {
  const response = await fetch(`${server.http}/info${query}`, { headers });
  assert.equal(response.status, 200);
  return await response.json();
}

/** Opens `count` raw WebSocket connections tagged `${prefix}-0`, `${prefix}-1`, …, `batch` at a time. */
async function openMany(
  server: RunningServer,
  count: number,
  prefix: string,
  batch = 250,
): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  try {
    for (let start = 0; start < count; start += batch) {
      const size = Math.min(batch, count - start);
      clients.push(
        ...await Promise.all(
          Array.from(
            { length: size },
            (_, i) =>
              RawClient.open(server.port, handshakeHeaders(), { path: `/?tag=${prefix}-${start + i}` }),
          ),
        ),
      );
    }
  } catch (error) {
    for (const client of clients) client.destroy();
    throw error;
  }
  return clients;
}

/** Polls until `check` passes: a close reaches the registry after the client has seen it. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  for (let i = 0;; i++) {
    const value = await read();
    if (check(value) || i === 100) return value;
    await sleep(50);
  }
}

for (const entry of ENTRIES) {
  describe(`/info on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry));
    after(() => server.stop());

    test("/info?tag= lists the last messages the server received and sent; an untagged connection keeps none", async () => {
      const tag = `log-${entry.name}`;
      const tagged = new WebSocket(`${server.ws}/?tag=${tag}`, { perMessageDeflate: false });
      const plain = new WebSocket(`${server.ws}/`, { perMessageDeflate: false });
      for (const ws of [tagged, plain]) {
        await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      }
      const echoed = (ws: WebSocket, n: number) =>
        new Promise((resolve) => {
          let seen = 0;
          ws.on("message", () => ++seen === n && resolve(seen));
        });
      const echoes = echoed(tagged, 2);
      tagged.send("héllo " + "x".repeat(100));
      tagged.send(new Uint8Array([1, 2, 3]));
      await echoes;
      const plainEcho = echoed(plain, 1);
      plain.send("unlogged");
      await plainEcho;
      const [record] = (await info(server, `?tag=${tag}`)).live;
      assert.equal(record.messageLog.logged, 4);
      assert.deepEqual(
        record.messageLog.messages.map((
          m: Record<string, unknown>,
        ) => [m.direction, m.type, m.bytes, m.truncated]),
        [["received", "text", 107, true], ["sent", "text", 107, true], ["received", "binary", 3, false], [
          "sent",
          "binary",
          3,
          false,
        ]],
      );
      assert.equal(record.messageLog.messages[0].preview, "héllo " + "x".repeat(58));
      assert.equal(record.messageLog.messages[3].preview, "AQID");
      const everyone = await info(server);
      assert.ok(
        everyone.live.every((r: object) => !("messageLog" in r)),
        "a listing shows nobody's messages",
      );
      assert.doesNotMatch(JSON.stringify(everyone), /unlogged/);
      tagged.close();
      plain.close();
    });

    test("/info?tag= shows the connection with live counters, then its close code", async () => {
      const tag = `counters-${entry.name}`;
      const ws = new WebSocket(`${server.ws}/?tag=${tag}`, ["chat"], { perMessageDeflate: false });
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      const echoes = new Promise((resolve) => {
        let n = 0;
        ws.on("message", () => ++n === 2 && resolve(n));
      });
      ws.send("héllo");
      ws.send(new Uint8Array([1, 2, 3]));
      await echoes;
      const live = await info(server, `?tag=${tag}`);
      assert.equal(live.recent.length, 0);
      assert.equal(live.live.length, 1);
      const record = live.live[0];
      assert.equal(record.tag, tag);
      assert.equal(record.response.protocol, "chat");
      assert.deepEqual(record.received, { messages: 2, bytes: 9 });
      assert.deepEqual(record.sent, { messages: 2, bytes: 9 });

      ws.close(4001, "done here");
      const closed = await eventually(() => info(server, `?tag=${tag}`), (body) => body.recent.length === 1);
      assert.equal(closed.live.length, 0);
      assert.deepEqual(closed.recent[0].closed.code, 4001);
      assert.deepEqual(closed.recent[0].closed.reason, "done here");
      assert.deepEqual(closed.recent[0].closed.by, "client");
      assert.ok(closed.recent[0].closed.durationMs >= 0);
      assert.deepEqual(closed.recent[0].received, { messages: 2, bytes: 9 });
    });

    test("a GET /info with the seed's handshake headers is a dry run with the right accept", async () => {
      const headers = Object.fromEntries(
        SEED_HEADERS.filter(([name]) => !/^(upgrade|connection)$/i.test(name)),
      );
      const body = await info(server, "", headers);
      assert.equal(body.dryRun.status, 101);
      assert.equal(body.dryRun.response["Sec-WebSocket-Accept"], SEED_ACCEPT);
      // The real upgrade with the same headers answers the same.
      const client = await RawClient.open(server.port, [["Host", "localhost"], ...SEED_HEADERS]);
      client.destroy();
      assert.equal(client.response.headers.get("sec-websocket-accept"), SEED_ACCEPT);
      assert.equal(
        body.dryRun.response["Sec-WebSocket-Extensions"],
        client.response.headers.get("sec-websocket-extensions") ?? undefined,
      );
      if (entry.name === "deno") {
        assert.match(body.dryRun.extensionsNote, /does not implement permessage-deflate/);
      }
    });

    test("other clients' address, tag, user agent and key are not shown by default", async () => {
      const client = await RawClient.open(
        server.port,
        handshakeHeaders({ "User-Agent": "Secret Agent 1.0" }),
        { path: "/?tag=private-tag" },
      );
      try {
        const body = JSON.stringify(await info(server));
        for (const secret of ["Secret Agent", "private-tag", "127.0.0.1"]) {
          assert.ok(!body.includes(secret), secret);
        }
        const own = await info(server, "?tag=private-tag");
        assert.equal(own.live[0].request.userAgent, "Secret Agent 1.0");
        assert.equal(own.live[0].remoteAddress, "127.0.0.1");
      } finally {
        client.destroy();
      }
    });

    test("INFO_DETAILS=full shows every connection in full", async () => {
      const full = await startServer(entry, { env: { INFO_DETAILS: "full" } });
      const client = await RawClient.open(full.port, handshakeHeaders({ "User-Agent": "Open Agent" }));
      try {
        const body = await info(full);
        assert.equal(body.config.infoDetails, "full");
        assert.equal(body.live[0].request.userAgent, "Open Agent");
        assert.equal(body.live[0].response.accept, client.response.headers.get("sec-websocket-accept"));
      } finally {
        client.destroy();
        await full.stop();
      }
    });

    test("with 3,000 live connections /info answers at most 64 KB, and a tag lookup still finds its own", async () => {
      const clients = await openMany(server, 3000, `bulk-${entry.name}`);
      try {
        // A client reads its 101 before the server's open event has run (Deno fires it on a later
        // task), so on a loaded machine the last sessions may join the hub a moment after.
        let text = "";
        let body;
        for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(50)) {
          const response = await fetch(`${server.http}/info`);
          assert.equal(response.status, 200);
          text = await response.text();
          body = JSON.parse(text);
          if (body.counts.live >= 3000) break;
        }
        assert.ok(text.length <= 64 * 1024, `${text.length} bytes`);
        assert.ok(body.counts.live >= 3000, `counts.live ${body.counts.live}`);
        assert.equal(body.live.length, body.config.infoLimit);
        const ids = body.live.map((r: { id: number }) => r.id);
        assert.deepEqual(ids, [...ids].sort((a, b) => b - a), "newest first");

        // The next page continues below the last id shown, without repeating one.
        const next = await info(server, body.page.next.slice("/info".length));
        assert.ok(next.live[0].id < ids.at(-1), "the next page starts below the last shown");

        const own = await info(server, `?tag=bulk-${entry.name}-1234`);
        assert.deepEqual(own.counts, { live: 1, recent: 0 });
        assert.equal(own.live[0].tag, `bulk-${entry.name}-1234`);
        assert.equal(own.live[0].remoteAddress, "127.0.0.1", "in full");
        assert.equal(own.live[0].response.accept, clients[1234].response.headers.get("sec-websocket-accept"));
      } finally {
        for (const client of clients) client.destroy();
      }
    });

    test("a bad limit or cursor is a 400 whose one line names it", async () => {
      for (const [query, name] of [["?limit=many", "limit"], ["?cursor=x", "cursor"]]) {
        const response = await fetch(`${server.http}/info${query}`);
        assert.equal(response.status, 400);
        assert.match(await response.text(), new RegExp(`^${name}: [^\\n]*\\n$`));
      }
    });
  });
}
