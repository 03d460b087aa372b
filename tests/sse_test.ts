/**
 * Server-sent events and jmalloc/echo-server's paths (`/.sse`, `/.ws`) on both entries: curl -N
 * reads the stream, fetch resumes one with Last-Event-ID, streams count against
 * MAX_CONNECTIONS, and SIGTERM ends them cleanly. The browser's EventSource is in tests/page_test.ts.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import process from "node:process";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { closePayload, handshakeHeaders, OP, RawClient } from "./support/raw.ts";

/** The `id:` of every event in an SSE text. */
function ids(text: string): number[] {
  return [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("curl", ["-sS", ...args], (error, stdout) => error ? reject(error) : resolve(stdout))
  );
}

/** Opens an endless stream and resolves once its first event has arrived. */
async function openStream(
  server: RunningServer,
  path = "/sse",
): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const response = await fetch(`${server.http}${path}?interval_ms=50`);
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  let seen = "";
  while (!seen.includes("id: 1\n")) {
    const { value, done } = await reader.read();
    assert.ok(!done, "the stream ended before its first event");
    seen += new TextDecoder().decode(value);
  }
  return reader;
}

for (const entry of ENTRIES) {
  describe(`SSE and jmalloc's paths on ${entry.name}`, () => {
    test("curl -N /sse?count=3&interval_ms=100: three events with ids, then the stream ends; /.sse too", {
      timeout: 30_000,
    }, async () => {
      const server = await startServer(entry);
      try {
        for (const path of ["/sse", "/.sse"]) {
          const start = performance.now();
          const out = await curl(["-N", "-i", `${server.http}${path}?count=3&interval_ms=100`]);
          assert.match(out, /^HTTP\/1\.1 200/);
          assert.match(out, /^content-type: text\/event-stream/im);
          assert.deepEqual(ids(out), [1, 2, 3]);
          assert.equal([...out.matchAll(/^data: \{"id":\d+,"time":"[^"]+"\}$/gm)].length, 3);
          assert.ok(performance.now() - start >= 190, "the events are 100 ms apart");
        }
        // Resumed after the id the client last saw; and a finished stream answers 204, which stops an EventSource.
        const resumed = await fetch(`${server.http}/sse?count=3&interval_ms=10`, {
          headers: { "Last-Event-ID": "1" },
        });
        assert.deepEqual(ids(await resumed.text()), [2, 3]);
        const finished = await fetch(`${server.http}/sse?count=3`, { headers: { "Last-Event-ID": "3" } });
        assert.equal(finished.status, 204);
        const bad = await fetch(`${server.http}/sse?interval_ms=1`);
        assert.equal(bad.status, 400);
        assert.match(
          await bad.text(),
          /^query parameter interval_ms: expected a whole number from 10 to 600000/,
        );
      } finally {
        await server.stop();
      }
    });

    test("curl -N /sse?count=1: a server event, a request event, then the numbered time event", {
      timeout: 30_000,
    }, async () => {
      const server = await startServer(entry, { env: { HOSTNAME: "sse-host-1" } });
      try {
        const out = await curl(["-N", "-H", "X-Probe: 7", `${server.http}/sse?count=1`]);
        const blocks = out.split("\n\n").filter((block) => block !== "");
        assert.equal(blocks.length, 4, out);
        assert.equal(blocks[0], "retry: 1000");
        const [server_, request, time] = blocks.slice(1).map((block) => block.split("\n"));
        assert.equal(server_[0], "event: server");
        const servedBy = JSON.parse(server_[1].replace(/^data: /, ""));
        assert.equal(servedBy.hostname, "sse-host-1");
        assert.match(servedBy.runtime, entry.name === "deno" ? /^Deno / : /^Bun /);
        assert.equal(request[0], "event: request");
        const echoed = JSON.parse(request[1].replace(/^data: /, ""));
        // The same record the HTTP echo answers with.
        const plain = await (await fetch(`${server.http}/sse-like?count=1`, { headers: { "X-Probe": "7" } }))
          .json();
        assert.deepEqual(Object.keys(echoed), Object.keys(plain));
        assert.equal(echoed.method, "GET");
        assert.equal(echoed.path, "/sse");
        assert.deepEqual(echoed.query, { count: "1" });
        assert.equal(echoed.headers["x-probe"], "7");
        assert.equal(echoed.remoteAddress, "127.0.0.1");
        assert.deepEqual(echoed.servedBy, servedBy);
        assert.deepEqual(plain.servedBy, servedBy);
        // The numbered event keeps its id and its data; the named ones carry no id.
        assert.deepEqual(time.slice(0, 2), ["event: time", "id: 1"]);
        assert.match(time[2], /^data: \{"id":1,"time":"\d{4}-\d\d-\d\dT[^"]+Z"\}$/);
        assert.deepEqual(ids(out), [1]);
      } finally {
        await server.stop();
      }
    });

    test("/.ws is the WebSocket echo, without a greeting frame", { timeout: 30_000 }, async () => {
      const server = await startServer(entry);
      try {
        const client = await RawClient.open(server.port, handshakeHeaders(), { path: "/.ws" });
        assert.equal(client.response.status, 101);
        client.send({ opcode: OP.TEXT, payload: "first" });
        const frame = await client.next();
        assert.equal(new TextDecoder().decode(frame!.payload), "first", "the first frame is the echo");
        client.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
        assert.equal((await client.next())?.opcode, OP.CLOSE);
        client.destroy();
      } finally {
        await server.stop();
      }
    });

    test("streams count against MAX_CONNECTIONS, and leave the count when the client goes", {
      timeout: 30_000,
    }, async () => {
      const server = await startServer(entry, { env: { MAX_CONNECTIONS: "1" } });
      try {
        const reader = await openStream(server);
        const full = await fetch(`${server.http}/sse`);
        assert.equal(full.status, 503);
        assert.match(await full.text(), /limit of 1 connections/);
        const ws = await RawClient.open(server.port, handshakeHeaders());
        assert.equal(ws.response.status, 503, "a WebSocket is refused while the stream is open");
        ws.destroy();
        await reader.cancel();
        const metrics = async () => await (await fetch(`${server.http}/metrics`)).text();
        for (let i = 0; i < 100 && !/^echo_sse_streams_active 0$/m.test(await metrics()); i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.match(await metrics(), /^echo_sse_streams_active 0$/m);
        const again = await openStream(server);
        await again.cancel();
      } finally {
        await server.stop();
      }
    });

    test("SIGTERM ends an open stream cleanly and the server exits 0", { timeout: 30_000 }, async () => {
      const server = await startServer(entry, { env: { SHUTDOWN_GRACE_SECONDS: "5" } });
      const exited = new Promise<number | null>((resolve) =>
        server.process.once("exit", (code) => resolve(code))
      );
      const reader = await openStream(server, "/.sse");
      process.kill(server.process.pid!, "SIGTERM");
      let rest = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += new TextDecoder().decode(value);
      }
      assert.match(rest, /: server shutting down\n\n$/);
      assert.equal(await exited, 0);
    });
  });
}
