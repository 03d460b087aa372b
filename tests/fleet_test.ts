/**
 * The fleet view on all cores: `deno serve --parallel` with two isolates, and `bun run bun/server.ts
 * --workers 2` with two threads. Tagged connections land on both members (the kernel chooses);
 * `/info?tag=` on fresh TCP connections, answered by either member, finds every one of them, live
 * and after close; SIGTERM closes every client of every member with 1001, then the process exits 0.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { FLEETS, getJson, type Info, twoMembers } from "./support/fleets.ts";
import type { RunningServer } from "./support/server.ts";
import { closePayload, handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";

const TAGS = 20;
const LOOKUPS = 4;
const LONG = { timeout: 60_000 };

async function lookups(port: number, tags: string[]): Promise<Array<Info>> {
  const answers = [];
  for (const tag of tags) {
    for (let i = 0; i < LOOKUPS; i++) answers.push(await getJson(port, `/info?tag=${tag}`));
  }
  return answers;
}

for (const fleet of FLEETS) {
  describe(`the fleet view on ${fleet.name}`, () => {
    let server: RunningServer;
    before(async () => {
      server = await fleet.start();
      await twoMembers(server.port);
    }, LONG);
    after(() => server?.stop());

    test(
      `${TAGS} tagged connections spread over both members; every /info?tag= finds its own`,
      LONG,
      async () => {
        const run = crypto.randomUUID().slice(0, 6);
        // 20 connections, and more until both members hold some: which member accepts is the runtime's and
        // the kernel's choice, not Echo's (deno serve let one isolate take all 20 in some runs).
        const tags: string[] = [];
        const clients: RawClient[] = [];
        const holders = new Set<string>();
        while (tags.length < TAGS || (holders.size < 2 && tags.length < 100)) {
          const tag = `${run}-${tags.length}`;
          const client = await RawClient.open(server.port, handshakeHeaders(), { path: `/?tag=${tag}` });
          assert.equal(client.response.status, 101);
          tags.push(tag);
          clients.push(client);
          holders.add((await getJson(server.port, `/info?tag=${tag}`)).live[0].member.id);
        }

        const live = await lookups(server.port, tags);
        const found = live.filter((info, i) =>
          info.live.length === 1 && info.live[0].tag === tags[i / LOOKUPS | 0]
        );
        assert.equal(found.length, tags.length * LOOKUPS, "every lookup of a live connection finds it");
        assert.deepEqual(
          new Set(live.map((info) => info.live[0].member.id)),
          holders,
          "the connections are spread over both members",
        );
        assert.equal(holders.size, 2);
        assert.ok(
          live.some((info) => info.live[0].member.id !== info.fleet.member.id),
          "some were found on the member that did not answer",
        );

        await Promise.all(clients.map(async (client) => {
          client.send({ opcode: OP.CLOSE, payload: closePayload(1000, "done") });
          assert.equal((await client.next())?.opcode, OP.CLOSE);
          client.destroy();
        }));
        // The server records the close once its side of the closing handshake completes.
        await sleep(200);
        const recent = await lookups(server.port, tags);
        const closed = recent.filter((info) =>
          info.live.length === 0 && info.recent.length === 1 && info.recent[0].closed.code === 1000
        );
        assert.equal(closed.length, tags.length * LOOKUPS, "every lookup of a closed connection finds it");
      },
    );

    test("/info without a tag: both members, their live counts and the fleet's totals", LONG, async () => {
      const clients = await Promise.all(
        Array.from({ length: 6 }, () => RawClient.open(server.port, handshakeHeaders())),
      );
      const info = await getJson(server.port, "/info");
      assert.equal(info.fleet.members.length, 2);
      assert.equal(info.fleet.live, 6);
      assert.ok(info.fleet.totals.connections >= info.totals.connections + 6 - info.live.length);
      clients.forEach((client) => client.destroy());
    });
  });

  describe(`SIGTERM on ${fleet.name}`, () => {
    test("every client of every member gets close 1001, then the process exits 0", LONG, async () => {
      const server = await fleet.start();
      try {
        await twoMembers(server.port);
        // At least 12 clients, and more until both members hold some: which member accepts is the
        // runtime's and the kernel's choice, not Echo's.
        const clients: RawClient[] = [];
        const holders = new Set<string>();
        while (clients.length < 12 || (holders.size < 2 && clients.length < 100)) {
          const tag = `s${clients.length}`;
          clients.push(await RawClient.open(server.port, handshakeHeaders(), { path: `/?tag=${tag}` }));
          holders.add((await getJson(server.port, `/info?tag=${tag}`)).live[0].member.id);
        }
        assert.equal(holders.size, 2, "clients on both members");
        const exited = new Promise<number | null>((resolve) =>
          server.process.once("exit", (code) => resolve(code))
        );
        // node:process kill, not the child handle's: Deno's child_process then reports the real exit code.
        process.kill(server.process.pid!, "SIGTERM");
        const closes = await Promise.all(clients.map(async (client) => {
          const frame = await client.next();
          assert.equal(frame?.opcode, OP.CLOSE);
          client.send({ opcode: OP.CLOSE, payload: frame!.payload.subarray(0, 2) });
          return parseClose(frame!.payload);
        }));
        // Under deno serve, Deno's own graceful shutdown closes the sockets ("Server shutting down").
        assert.deepEqual(
          closes.filter((c) => c.code !== 1001 || !/^[Ss]erver shutting down$/.test(c.reason)),
          [],
        );
        assert.equal(await exited, 0);
        clients.forEach((client) => client.destroy());
      } finally {
        await server.stop();
      }
    });
  });
}
