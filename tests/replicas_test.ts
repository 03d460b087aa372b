/**
 * Replicas sharing one engine (FLEET_URL): two separate Echo processes and a real redis-server (or,
 * on Deno, one KV file), with tagged connections spread over both. Every `/info?tag=` from either
 * process finds its connection, live and after close; Redis dying mid-run costs the clients nothing,
 * `/info` says why the shared view is gone, and it comes back once Redis does.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import {
  denoServeEntry,
  ENTRIES,
  type Entry,
  type RunningServer,
  runToExit,
  startServer,
} from "./support/server.ts";
import { freePort } from "./support/nginx.ts";
import { type RunningRedis, startRedis } from "./support/redis.ts";

const LONG = { timeout: 60_000 };
const CONNECTIONS = 20;

/** A tagged client, the member holding its connection, and everything that went wrong for it. */
interface Tagged {
  tag: string;
  holder: RunningServer;
  ws: WebSocket;
  /** Errors and unexpected closes the client saw. */
  troubles: string[];
}

async function openTagged(holder: RunningServer, tag: string): Promise<Tagged> {
  const ws = new WebSocket(`${holder.ws}/?tag=${tag}`);
  const client: Tagged = { tag, holder, ws, troubles: [] };
  ws.on("error", (error) => client.troubles.push(`error: ${error.message}`));
  ws.on("close", (code) => code !== 1000 && client.troubles.push(`closed ${code}`));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return client;
}

/** Sends one message and waits for its echo. */
function echo(client: Tagged, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo of ${text} on ${client.tag}`)), 10_000);
    client.ws.once("message", (data) => {
      clearTimeout(timer);
      resolve(String(data));
    });
    client.ws.send(text);
  });
}

async function info(server: RunningServer, tag?: string) {
  const query = tag === undefined ? "" : `?tag=${encodeURIComponent(tag)}`;
  const response = await fetch(`${server.http}/info${query}`);
  assert.equal(response.status, 200);
  return await response.json();
}

/** GET /info?tag= on a fresh TCP connection, so that the kernel picks an isolate for each request. */
function freshInfo(port: number, tag: string): Promise<{ process: { id: string }; live: unknown[] }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`GET /info?tag=${tag} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    });
    let text = "";
    socket.on("data", (chunk: Buffer) => text += chunk.toString());
    socket.on("error", reject);
    socket.on("close", () => {
      const [head, body] = [
        text.slice(0, text.indexOf("\r\n\r\n")),
        text.slice(text.indexOf("\r\n\r\n") + 4),
      ];
      // A chunked body, as one chunk or several: keep the JSON between the chunk-size lines.
      const json = /transfer-encoding: chunked/i.test(head)
        ? body.split("\r\n").filter((_, i) => i % 2 === 1).join("")
        : body;
      resolve(JSON.parse(json));
    });
  });
}

/** Polls `check` until true; fails after `ms`. Returns how long it took. */
async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
  return Date.now() - start;
}

const other = (servers: RunningServer[], server: RunningServer) => servers.find((s) => s !== server)!;

/** Whether `server` sees `client`'s connection in the given list. */
async function sees(server: RunningServer, client: Tagged, list: "live" | "recent"): Promise<boolean> {
  return (await info(server, client.tag))[list].length === 1;
}

/**
 * Opens CONNECTIONS tagged connections alternating over `servers`, waits until the newest on each
 * member has reached the other, then asks every tag of every member once: each finds its connection.
 * Then the same after every client closed.
 */
async function everyTagFromEveryMember(servers: RunningServer[], prefix: string): Promise<void> {
  const ids = new Map<RunningServer, string>();
  for (const server of servers) ids.set(server, (await info(server)).process.id);
  const clients: Tagged[] = [];
  for (let i = 0; i < CONNECTIONS; i++) clients.push(await openTagged(servers[i % 2], `${prefix}-${i}`));
  await Promise.all(clients.map((client) => echo(client, `hello ${client.tag}`)));
  // Batches go out within a second: first wait until each connection, with its echo counted, reached
  // the other member; then every lookup must find it.
  for (const client of clients) {
    await until(`${client.tag} seen from the other member`, async () => {
      const [record] = (await info(other(servers, client.holder), client.tag)).live;
      return record?.received.messages === 1;
    });
  }
  let found = 0;
  for (const client of clients) {
    for (const server of servers) {
      const body = await info(server, client.tag);
      assert.equal(
        body.live.length,
        1,
        `${client.tag} live from ${ids.get(server)}: ${JSON.stringify(body)}`,
      );
      const [record] = body.live;
      assert.equal(record.tag, client.tag);
      assert.deepEqual(record.received, { messages: 1, bytes: `hello ${client.tag}`.length });
      if (server !== client.holder) {
        assert.equal(record.member.id, ids.get(client.holder), "names its member");
      }
      found++;
    }
  }
  assert.equal(found, CONNECTIONS * servers.length);
  // Without a tag, each member lists the fleet: both members, and totals summed from their heartbeats.
  for (const server of servers) {
    await until("the fleet's totals from each member", async () => {
      const { fleet } = await info(server);
      return fleet.members.length === 2 && fleet.live === CONNECTIONS &&
        fleet.totals.connections >= CONNECTIONS;
    });
  }

  await Promise.all(clients.map((client) => {
    client.ws.close(1000, "done");
    return new Promise((resolve) => client.ws.once("close", resolve));
  }));
  for (const client of clients) {
    await until(`${client.tag} closed, seen from the other member`, async () => {
      const body = await info(other(servers, client.holder), client.tag);
      return body.live.length === 0 && body.recent.length === 1;
    });
  }
  for (const client of clients) {
    for (const server of servers) {
      const body = await info(server, client.tag);
      assert.deepEqual(
        [body.live.length, body.recent.length],
        [0, 1],
        `${client.tag}: ${JSON.stringify(body)}`,
      );
      assert.equal(body.recent[0].closed.code, 1000);
    }
  }
  for (const client of clients) assert.deepEqual(client.troubles, []);
}

/** Two members of `entry` sharing `fleetUrl`. */
function twoMembers(entry: Entry, fleetUrl: () => string, permissions?: () => string[]) {
  const servers: RunningServer[] = [];
  before(async () => {
    const options = () => ({ env: { FLEET_URL: fleetUrl() }, permissions: permissions?.() });
    servers.push(...await Promise.all([startServer(entry, options()), startServer(entry, options())]));
  }, LONG);
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  }, LONG);
  return servers;
}

for (const entry of ENTRIES) {
  describe(`${entry.name}: two processes sharing one Redis`, () => {
    let redis: RunningRedis;
    before(async () => redis = await startRedis(), LONG);
    after(() => redis?.stop(), LONG);
    const servers = twoMembers(entry, () => redis.url);

    test("every /info?tag= from each process finds its connection, live and after close", LONG, async () => {
      await everyTagFromEveryMember(servers, `${entry.name}-redis`);
    });

    test(
      "Redis killed mid-run: echo goes on, /info says why the shared view is gone; back within 5 s of Redis",
      LONG,
      async () => {
        const clients = [
          await openTagged(servers[0], `${entry.name}-outage-0`),
          await openTagged(servers[1], `${entry.name}-outage-1`),
        ];
        for (const client of clients) {
          await until(`${client.tag} shared`, () => sees(other(servers, client.holder), client, "live"));
        }
        await redis.kill();
        // The shared engine's status among /info's fleet sources (the in-process channel may come first).
        // deno-lint-ignore no-explicit-any
        const shared = (body: any) =>
          body.fleet.sources.find((s: { source: string }) => s.source === "redis");
        const down = (server: RunningServer) => async () => shared(await info(server)).available === false;
        for (const server of servers) await until("the shared view reported unavailable", down(server));
        for (let round = 0; round < 5; round++) {
          for (const client of clients) {
            assert.equal(await echo(client, `during ${round}`), `during ${round}`);
          }
        }
        for (const server of servers) {
          const body = await info(server, clients[0].tag);
          assert.equal(shared(body).available, false);
          assert.match(shared(body).reason, /^cannot reach redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: /);
          assert.ok(!JSON.stringify(body).includes(redis.password), "no password in /info");
          // The member holding it still answers from its own registry.
          assert.equal(body.live.length, server === clients[0].holder ? 1 : 0);
        }

        await redis.restart();
        const recovered = await Promise.all(clients.map((client) =>
          until(
            `${client.tag} shared again`,
            () => sees(other(servers, client.holder), client, "live"),
          )
        ));
        assert.ok(Math.max(...recovered) <= 5000, `the shared view came back after ${recovered} ms`);
        for (const server of servers) assert.equal(shared(await info(server)).available, true);
        for (const client of clients) {
          assert.equal(await echo(client, "after"), "after");
          client.ws.close(1000);
          assert.deepEqual(client.troubles, [], "the clients saw nothing of the outage");
        }
        for (const server of servers) {
          assert.ok(!server.output().includes(redis.password), "no password in logs");
        }
      },
    );
  });
}

describe("deno: two processes sharing one KV file", () => {
  let dir: string;
  before(() => dir = mkdtempSync(join(tmpdir(), "echo-kv-")));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const deno = ENTRIES.find((entry) => entry.name === "deno")!;
  const servers = twoMembers(
    deno,
    () => `kv:${dir}/fleet.sqlite`,
    () => [`--allow-read=${dir}`, `--allow-write=${dir}`],
  );

  test("every /info?tag= from each process finds its connection, live and after close", LONG, async () => {
    await everyTagFromEveryMember(servers, "deno-kv");
  });
});

describe("deno serve --parallel: isolates sharing one Redis", () => {
  let redis: RunningRedis;
  let server: RunningServer;
  before(async () => redis = await startRedis(), LONG);
  before(async () => {
    const serve = denoServeEntry(await freePort());
    server = await startServer(serve, { env: { DENO_JOBS: "2", FLEET_URL: redis.url, PORT: "1" } });
  }, LONG);
  after(async () => {
    await server?.stop();
    await redis?.stop();
  }, LONG);

  test("each isolate is a member: every lookup on the shared port finds every tag", LONG, async () => {
    // The second isolate may still be starting when the first answers.
    const started = new Set<string>();
    await until("both isolates answering", async () => {
      started.add((await freshInfo(server.port, "-")).process.id);
      return started.size === 2;
    });
    const clients = [];
    for (let i = 0; i < 8; i++) clients.push(await openTagged(server, `serve-${i}`));
    for (const client of clients) {
      await until(`${client.tag} found 4 times in a row`, async () => {
        for (let i = 0; i < 4; i++) {
          if ((await freshInfo(server.port, client.tag)).live.length !== 1) return false;
        }
        return true;
      });
    }
    const members = new Set<string>();
    for (const client of clients) {
      for (let i = 0; i < 4; i++) {
        const body = await freshInfo(server.port, client.tag);
        assert.equal(body.live.length, 1, JSON.stringify(body));
        members.add(body.process.id);
      }
      client.ws.close(1000);
    }
    assert.equal(members.size, 2, "both isolates answered");
  });

  test("SIGTERM still ends the process: the fleet holds nothing open", LONG, async () => {
    const exited = new Promise((resolve) => server.process.once("exit", resolve));
    server.process.kill("SIGTERM");
    const outcome = await Promise.race([
      exited.then(() => "exited"),
      sleep(20_000).then(() => "still running"),
    ]);
    assert.equal(outcome, "exited");
  });
});

describe("FLEET_URL refused", () => {
  for (const entry of ENTRIES) {
    test(`${entry.name}: a bad URL, in one line naming FLEET_URL and without its password; exit 2`, async () => {
      const run = await runToExit(entry, { env: { FLEET_URL: "redis://echo:hunter2@cache:6379/db" } });
      assert.equal(run.code, 2);
      assert.match(
        run.stderr.trim(),
        /^echo: FLEET_URL: expected redis:\/\/.*, got "redis:\/\/\*\*\*@cache:6379\/db"$/,
      );
      assert.ok(!(run.stdout + run.stderr).includes("hunter2"));
    });
  }

  test("bun: kv: is Deno KV, which Bun lacks", async () => {
    const bun = ENTRIES.find((entry) => entry.name === "bun")!;
    const run = await runToExit(bun, { env: { FLEET_URL: "kv:" } });
    assert.equal(run.code, 2);
    assert.match(run.stderr.trim(), /^echo: FLEET_URL: kv: is Deno KV, which Bun does not have/);
  });
});
