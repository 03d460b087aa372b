import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { ENTRIES, logLines, type RunningServer, startServer } from "./support/server.ts";
import { closePayload, handshakeHeaders, OP, RawClient } from "./support/raw.ts";

/** Parses Prometheus text format strictly enough to catch malformed output. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    if (line.startsWith("# HELP ")) continue;
    const type = /^# TYPE (\w+) (counter|gauge)$/.exec(line);
    if (type) {
      typed.add(type[1]);
      continue;
    }
    const sample = /^(\w+)(\{(\w+="(?:[^"\\]|\\.)*")(,\w+="(?:[^"\\]|\\.)*")*\})? (\d+(?:\.\d+)?)$/.exec(
      line,
    );
    assert.ok(sample, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    assert.ok(typed.has(sample[1]), `${sample[1]} has no TYPE line`);
    samples.set(line.slice(0, line.lastIndexOf(" ")), Number(sample[5]));
  }
  return samples;
}

async function metrics(server: RunningServer): Promise<Map<string, number>> {
  const response = await fetch(`${server.http}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await response.text());
}

for (const entry of ENTRIES) {
  describe(`observability on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry, { env: { LOG_FORMAT: "json" } }));
    after(() => server.stop());

    test("GET /healthz answers 200", async () => {
      const response = await fetch(`${server.http}/healthz`);
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "ok\n");
    });

    test("/metrics parses as Prometheus text and its counters move with traffic", async () => {
      const before = await metrics(server);
      const client = await RawClient.open(
        server.port,
        handshakeHeaders({ "Sec-WebSocket-Protocol": "chat" }),
      );
      client.send({ opcode: OP.TEXT, payload: "12345" });
      await client.next();
      const during = await metrics(server);
      assert.equal(during.get("echo_connections_active"), (before.get("echo_connections_active") ?? 0) + 1);
      assert.equal(
        during.get('echo_messages_total{direction="in"}'),
        (before.get('echo_messages_total{direction="in"}') ?? 0) + 1,
      );
      assert.equal(
        during.get('echo_bytes_total{direction="out"}'),
        (before.get('echo_bytes_total{direction="out"}') ?? 0) + 5,
      );
      client.send({ opcode: OP.CLOSE, payload: closePayload(4000, "done") });
      await client.ended();
      const refused = await RawClient.open(server.port, handshakeHeaders({ "Sec-WebSocket-Version": "8" }));
      refused.destroy();
      let after = await metrics(server);
      for (
        let i = 0;
        i < 20 && after.get("echo_connections_active") !== before.get("echo_connections_active");
        i++
      ) {
        await sleep(50);
        after = await metrics(server);
      }
      assert.equal(after.get("echo_connections_active"), before.get("echo_connections_active"));
      assert.equal(after.get('echo_closes_total{code="4000"}'), 1);
      assert.equal(after.get('echo_handshakes_refused_total{reason="version"}'), 1);
      assert.equal(after.get("echo_connections_total"), (before.get("echo_connections_total") ?? 0) + 1);
    });

    test("one JSON log line per open, close and refused handshake, with the facts", async () => {
      const client = await RawClient.open(
        server.port,
        handshakeHeaders({ "Sec-WebSocket-Protocol": "chat" }),
        {
          path: "/room?tag=logged",
        },
      );
      client.send({ opcode: OP.BINARY, payload: new Uint8Array(10) });
      await client.next();
      client.send({ opcode: OP.CLOSE, payload: closePayload(1000, "bye") });
      await client.ended();
      const refused = await RawClient.open(server.port, handshakeHeaders({ "Sec-WebSocket-Key": "short" }));
      refused.destroy();
      await sleep(200);
      const lines = logLines(server);
      const open = lines.filter((l) => l.event === "open" && l.tag === "logged");
      const close = lines.filter((l) => l.event === "close" && l.tag === "logged");
      assert.equal(open.length, 1);
      assert.equal(close.length, 1);
      assert.equal(open[0].remote, "127.0.0.1");
      assert.equal(open[0].protocol, "chat");
      assert.equal(open[0].extensions, "");
      assert.equal(close[0].extensions, "");
      assert.equal(open[0].path, "/room");
      assert.deepEqual(
        [close[0].code, close[0].reason, close[0].closedBy, close[0].messagesIn, close[0].bytesOut],
        [1000, "bye", "client", 1, 10],
      );
      assert.equal(typeof close[0].durationMs, "number");
      const refusal = lines.filter((l) => l.event === "refused" && l.reason === "key");
      assert.equal(refusal.length, 1);
      assert.equal(refusal[0].status, 400);
      for (const line of lines) assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
    });
  });

  test(`on ${entry.name}, a burst of long log lines outside ASCII comes out whole`, async () => {
    const running = await startServer(entry, { env: { LOG_FORMAT: "json" } });
    try {
      // ~150 KB of lines logged within a few milliseconds: more than one write's buffer on Deno, and
      // four-byte characters for its parts to end beside.
      const tags = Array.from({ length: 150 }, (_, i) => `burst${i}-${"é😀x".repeat(150)}`);
      const clients = await Promise.all(
        tags.map((tag) =>
          RawClient.open(running.port, handshakeHeaders(), { path: `/?tag=${encodeURIComponent(tag)}` })
        ),
      );
      for (const client of clients) client.send({ opcode: OP.CLOSE, payload: closePayload(1000, "") });
      await Promise.all(clients.map((client) => client.ended()));
      await sleep(200);
      const lines = running.stdout().split("\n").filter((line) => line.includes("burst"));
      const opened = lines.map((line) => JSON.parse(line)).filter((line) => line.event === "open");
      assert.deepEqual(opened.map((line) => line.tag).sort(), [...tags].sort());
    } finally {
      await running.stop();
    }
  });

  test(`on ${entry.name}, a closed stdout loses the log lines, not the server`, async () => {
    const running = await startServer(entry, { env: { LOG_FORMAT: "json" } });
    try {
      running.process.stdout!.destroy();
      // Enough handshakes for batches of log lines to be written into the closed pipe.
      for (let i = 0; i < 20; i++) {
        const client = await RawClient.open(running.port, handshakeHeaders(), { path: `/?tag=lost${i}` });
        client.send({ opcode: OP.CLOSE, payload: closePayload(1000, "") });
        await client.ended();
      }
      await sleep(200);
      assert.equal((await fetch(`${running.http}/healthz`)).status, 200);
      assert.equal(running.process.exitCode, null);
    } finally {
      await running.stop();
    }
  });
}
