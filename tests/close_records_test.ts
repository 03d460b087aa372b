/**
 * One close vocabulary on every entry and shape (issue #33): what Echo records of a close (the `close` log
 * line, `/info`'s `closed`, `/metrics`' `echo_closes_total`, the `shutdown complete` line's `closes`) is the
 * close that went over the wire, as the client saw it: the code and reason of the first close frame and
 * which side sent it; 1005 for a close frame without a code; 1006, by the network, when the TCP connection
 * ended without one (never 0). Each shape runs as a real process with raw-TCP clients: `deno run`,
 * `deno serve`, `deno serve --parallel` (two isolates), Bun, Bun `--workers 2` and the single executable.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { BINARY_ENTRY, ensureBinary } from "./support/binary.ts";
import { FLEETS, getJson, type Info, twoMembers } from "./support/fleets.ts";
import { freePort } from "./support/nginx.ts";
import {
  denoServeEntry,
  ENTRIES,
  type Entry,
  ROOT,
  type RunningServer,
  startServer,
} from "./support/server.ts";
import { type Frame, handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";

const LONG = { timeout: 60_000 };
// Built while collecting, not in a hook: Bun holds hooks to 5 s whatever they ask.
ensureBinary();
const BIN = `${ROOT}node_modules/.bin/`;
/** Small enough that a 2 KiB message is refused (Deno: by Echo; Bun: by Bun itself). */
const ENV = { SHUTDOWN_GRACE_SECONDS: "5", MAX_MESSAGE_BYTES: "1024" };

interface Shape {
  name: string;
  members: 1 | 2;
  start(): Promise<RunningServer>;
}

/** `deno serve serve.ts` with one isolate (no `--parallel`); Deno takes the port itself. */
function denoServeOne(port: number): Entry {
  return {
    name: "deno",
    command: () => [`${BIN}deno`, "serve", "--allow-net", "--allow-env", "--port", String(port), "serve.ts"],
  };
}

const entry = (name: "deno" | "bun") => ENTRIES.find((e) => e.name === name)!;

const SHAPES: Shape[] = [
  { name: "deno run main.ts", members: 1, start: () => startServer(entry("deno"), { env: ENV }) },
  {
    name: "deno serve serve.ts",
    members: 1,
    start: async () => startServer(denoServeOne(await freePort()), { env: ENV }),
  },
  {
    name: FLEETS[0].name,
    members: 2,
    start: async () => startServer(denoServeEntry(await freePort()), { env: { ...ENV, DENO_JOBS: "2" } }),
  },
  { name: "bun run bun/server.ts", members: 1, start: () => startServer(entry("bun"), { env: ENV }) },
  {
    name: FLEETS[1].name,
    members: 2,
    start: () => startServer(entry("bun"), { args: ["--workers", "2", "--port", "0"], env: ENV }),
  },
  { name: "the single executable (Bun)", members: 1, start: () => startServer(BINARY_ENTRY, { env: ENV }) },
];

/** A close as the wire carried it: the first close frame's code and reason, 1006 when there was none. */
interface WireClose {
  code: number;
  reason: string;
  by: "client" | "server" | "network";
}

/** The close frame the server sent, answered with its code (a client completing the closing handshake). */
async function serverClose(client: RawClient): Promise<WireClose> {
  let frame: Frame | undefined;
  do frame = await client.next(); while (frame && frame.opcode !== OP.CLOSE);
  assert.ok(frame, "the server ended the TCP connection without a close frame");
  client.send({ opcode: OP.CLOSE, payload: frame.payload.subarray(0, 2) });
  return { ...parseClose(frame.payload), by: "server" };
}

/** The tagged connection's record in `/info` once it has closed (any member answers a tag). */
async function closedRecord(port: number, tag: string): Promise<{ record: WireClose; member: string }> {
  for (let i = 0; i < 100; i++) {
    const info = await getJson(port, `/info?tag=${tag}`);
    const recent = info.recent[0];
    if (info.live.length === 0 && recent?.closed) {
      const { code, reason, by } = recent.closed;
      return { record: { code, reason, by }, member: recent.member?.id ?? info.process.id };
    }
    await sleep(50);
  }
  assert.fail(`no closed record for ${tag}`);
}

/** Every JSON line on stdout (lines another isolate's write split are skipped). */
function jsonLines(server: RunningServer): Info[] {
  return server.stdout().split("\n").flatMap((line) => {
    try {
      return line.startsWith("{") ? [JSON.parse(line)] : [];
    } catch {
      return [];
    }
  });
}

/** The `close` log line of the tagged connection, as a {@link WireClose}; waits for the batch to be written. */
async function loggedClose(server: RunningServer, tag: string): Promise<WireClose> {
  for (let i = 0; i < 100; i++) {
    const lines = jsonLines(server).filter((line) => line.event === "close" && line.tag === tag);
    if (lines.length > 0) {
      assert.equal(lines.length, 1, `one close line for ${tag}`);
      return { code: lines[0].code, reason: lines[0].reason, by: lines[0].closedBy };
    }
    await sleep(50);
  }
  assert.fail(`no close line for ${tag}:\n${server.stdout().slice(-2000)}`);
}

/** GET /metrics on a fresh TCP connection: who answered and its `echo_closes_total` by code. */
function metrics(port: number): Promise<{ member: string; closes: Map<string, number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => text += chunk);
    socket.on("error", reject);
    socket.on("close", () => {
      const member = /^echo_process_info\{pid="\d+",id="([0-9a-f]+)"\} 1$/m.exec(text)?.[1] ?? "";
      const closes = new Map<string, number>();
      for (const [, code, n] of text.matchAll(/^echo_closes_total\{code="(\d+)"\} (\d+)$/gm)) {
        closes.set(code, Number(n));
      }
      resolve({ member, closes });
    });
  });
}

/** `/metrics` as `member` answers it (the kernel picks the member of each fresh connection). */
async function metricsOf(port: number, member: string): Promise<Map<string, number>> {
  for (let i = 0; i < 200; i++) {
    const answer = await metrics(port);
    if (answer.member === member) return answer.closes;
  }
  assert.fail(`member ${member} never answered /metrics`);
}

/** Opens tagged clients until there are `count`, and more until every member holds some. */
async function clientsOnEveryMember(port: number, shape: Shape, run: string, count: number) {
  const clients: Array<{ tag: string; client: RawClient }> = [];
  const holders = new Set<string>();
  while (clients.length < count || (holders.size < shape.members && clients.length < 100)) {
    const tag = `${run}-s${clients.length}`;
    const client = await RawClient.open(port, handshakeHeaders(), { path: `/?tag=${tag}` });
    assert.equal(client.response.status, 101);
    clients.push({ tag, client });
    const info = await getJson(port, `/info?tag=${tag}`);
    holders.add(info.live[0].member?.id ?? info.process.id);
  }
  assert.equal(holders.size, shape.members, "clients on every member");
  return clients;
}

for (const shape of SHAPES) {
  describe(`close records on ${shape.name}`, () => {
    let server: RunningServer;
    const run = crypto.randomUUID().slice(0, 6);
    before(async () => {
      server = await shape.start();
      if (shape.members === 2) await twoMembers(server.port);
    }, LONG);
    after(() => server?.stop());

    test("a client that drops TCP without a close frame: 1006 by the network, never 0", LONG, async () => {
      const tag = `${run}-drop`;
      const client = await RawClient.open(server.port, handshakeHeaders(), { path: `/?tag=${tag}` });
      assert.equal(client.response.status, 101);
      client.destroy();
      const wire: WireClose = { code: 1006, reason: "", by: "network" };
      const { record, member } = await closedRecord(server.port, tag);
      assert.deepEqual(record, wire, "/info");
      assert.deepEqual(await loggedClose(server, tag), wire, "log");
      const closes = await metricsOf(server.port, member);
      assert.equal(closes.get("1006"), 1, "/metrics");
      assert.equal(closes.get("0"), undefined, "/metrics has no code 0");
    });

    test("a close frame without a code: 1005 by the client", LONG, async () => {
      const tag = `${run}-bare`;
      const client = await RawClient.open(server.port, handshakeHeaders(), { path: `/?tag=${tag}` });
      client.send({ opcode: OP.CLOSE });
      assert.equal((await client.next())?.opcode, OP.CLOSE);
      client.destroy();
      const wire: WireClose = { code: 1005, reason: "", by: "client" };
      const { record, member } = await closedRecord(server.port, tag);
      assert.deepEqual(record, wire, "/info");
      assert.deepEqual(await loggedClose(server, tag), wire, "log");
      assert.equal((await metricsOf(server.port, member)).get("1005"), 1, "/metrics");
    });

    test(
      "a message over MAX_MESSAGE_BYTES: the 1009 close frame the client got, by the server",
      LONG,
      async () => {
        const tag = `${run}-big`;
        const client = await RawClient.open(server.port, handshakeHeaders(), { path: `/?tag=${tag}` });
        client.send({ opcode: OP.TEXT, payload: "a".repeat(2048) });
        const wire = await serverClose(client);
        client.destroy();
        assert.equal(wire.code, 1009);
        const { record, member } = await closedRecord(server.port, tag);
        assert.deepEqual(record, wire, "/info");
        assert.deepEqual(await loggedClose(server, tag), wire, "log");
        assert.equal((await metricsOf(server.port, member)).get("1009"), 1, "/metrics");
      },
    );
  });

  // A fresh server: under `deno serve`, a client that once dropped TCP holds Deno's own drain for ~60 s
  // (docs/design.md, the ledger), which is Deno's and not what this checks.
  describe(`SIGTERM on ${shape.name}`, () => {
    test(
      "every client of every member gets 1001, and each record is that frame, by the server",
      LONG,
      async () => {
        const server = await shape.start();
        try {
          if (shape.members === 2) await twoMembers(server.port);
          const run = crypto.randomUUID().slice(0, 6);
          const clients = await clientsOnEveryMember(server.port, shape, run, shape.members * 6);
          const exited = new Promise<number | null>((resolve) =>
            server.process.once("exit", (code) => resolve(code))
          );
          // node:process kill, not the child handle's: Deno's child_process then reports the real exit code.
          process.kill(server.process.pid!, "SIGTERM");
          const wires = await Promise.all(clients.map(({ client }) => serverClose(client)));
          assert.equal(await exited, 0);
          for (const wire of wires) assert.equal(wire.code, 1001);
          for (const [i, { tag, client }] of clients.entries()) {
            client.destroy();
            assert.deepEqual(await loggedClose(server, tag), wires[i], `log of ${tag}`);
          }
          // The listener is gone: each member's last line says what its /metrics counted.
          const complete = jsonLines(server).filter((line) => line.event === "shutdown complete");
          assert.equal(complete.length, shape.members, "one shutdown complete line per member");
          const closes = complete.flatMap((line) => String(line.closes).split(",").filter(Boolean));
          assert.deepEqual(
            closes.map((entry) => entry.split(":")[0]).filter((code) => code !== "1001"),
            [],
            "every close counted was a 1001",
          );
          const counted = closes.reduce((sum, entry) => sum + Number(entry.split(":")[1]), 0);
          assert.equal(counted, clients.length, 'echo_closes_total{code="1001"} over the members');
        } finally {
          await server.stop();
        }
      },
    );
  });
}

for (
  const shape of SHAPES.filter((s) => s.name === "deno run main.ts" || s.name === "bun run bun/server.ts")
) {
  describe(`the idle timeout's close on ${shape.name}`, () => {
    test("a silent client gets 1001 and the record is that frame, by the server", LONG, async () => {
      const server = await startServer(entry(shape.name.startsWith("deno") ? "deno" : "bun"), {
        env: { ...ENV, IDLE_TIMEOUT_SECONDS: "2" },
      });
      try {
        const tag = "silent";
        // A raw client answers no ping: Deno's own idle timeout closes it, on Bun Echo's keepalive does.
        const client = await RawClient.open(server.port, handshakeHeaders(), { path: `/?tag=${tag}` });
        const wire = await serverClose(client);
        client.destroy();
        assert.equal(wire.code, 1001);
        const { record, member } = await closedRecord(server.port, tag);
        assert.deepEqual(record, wire, "/info");
        assert.deepEqual(await loggedClose(server, tag), wire, "log");
        assert.equal((await metricsOf(server.port, member)).get("1001"), 1, "/metrics");
      } finally {
        await server.stop();
      }
    });
  });
}
