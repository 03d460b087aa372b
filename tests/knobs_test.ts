/**
 * The test knobs (`?echo_delay=`, `?echo_close=`, `?echo_status=`, `?echo_ping_ms=`, `?echo_drop_after=`, `?echo_compress=`,
 * `?echo_protocol=`) against both real entries, seen by real clients: the raw TCP client for the
 * wire, Node's `ws` and the runtime's built-in `WebSocket` for what a client library sees.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { logLines, type RunningServer, startServer } from "./support/server.ts";
import { ENTRIES_AND_BINARY } from "./support/binary.ts";
import { type Frame, handshakeHeaders, OP, RawClient } from "./support/raw.ts";

const DEFLATE = "permessage-deflate; client_max_window_bits";

function closeOf(frame: Frame | undefined): { code: number; reason: string } {
  assert.equal(frame?.opcode, OP.CLOSE, `expected a close frame, got ${JSON.stringify(frame?.opcode)}`);
  const payload = frame!.payload;
  return {
    code: new DataView(payload.buffer, payload.byteOffset).getUint16(0),
    reason: new TextDecoder().decode(payload.subarray(2)),
  };
}

async function infoRecord(server: RunningServer, tag: string) {
  const body = await (await fetch(`${server.http}/info?tag=${tag}`)).json();
  return [...body.live, ...body.recent][0];
}

async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  for (let i = 0;; i++) {
    const value = await read();
    if (check(value) || i === 100) return value;
    await sleep(50);
  }
}

function openWs(
  url: string,
  protocols: string[] = [],
  options: WebSocket.ClientOptions = {},
): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false, ...options });
  return new Promise((resolve, reject) => ws.once("open", () => resolve(ws)).once("error", reject));
}

for (const entry of ENTRIES_AND_BINARY) {
  describe(`test knobs on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry));
    after(() => server.stop());

    test("an application's own query, knob names and all, is neither read nor refused: a plain echo", async () => {
      const query = `status=online&protocol=v2&delay=soon&close=1&tag=app-${entry.name}`;
      const ws = await openWs(`${server.ws}/?${query}`, ["v1"]);
      assert.equal(ws.protocol, "v1", "the subprotocol is Echo's choice from the offer, not ?protocol=");
      const echoed = new Promise<string>((resolve) => ws.once("message", (data) => resolve(String(data))));
      ws.send("plain");
      assert.equal(await echoed, "plain");
      const record = await infoRecord(server, `app-${entry.name}`);
      assert.equal(record.query, query, "the query as sent");
      assert.deepEqual(record.knobs, {});
      ws.close();
    });

    test("echo_delay=200: each echo comes at least 200 ms after its message, in order", async () => {
      const ws = await openWs(`${server.ws}/?echo_delay=200&tag=delay-${entry.name}`);
      const sentAt: number[] = [];
      const echoes: Array<[string, number]> = [];
      const done = new Promise<void>((resolve) => {
        ws.on("message", (data) => {
          echoes.push([data.toString(), performance.now()]);
          if (echoes.length === 3) resolve();
        });
      });
      for (const text of ["one", "two", "three"]) {
        sentAt.push(performance.now());
        ws.send(text);
        await sleep(30);
      }
      await done;
      assert.deepEqual(echoes.map(([text]) => text), ["one", "two", "three"]);
      echoes.forEach(([text, at], i) =>
        assert.ok(at - sentAt[i] >= 200, `${text} came after ${at - sentAt[i]} ms`)
      );
      const record = await infoRecord(server, `delay-${entry.name}`);
      assert.deepEqual(record.knobs, { delayMs: 200 });
      ws.close();
    });

    test("echo_delay=100: a large binary message waits whole and comes back byte-exact", async () => {
      // Both entries free a large received buffer once its echo is sent; a delayed one is still held.
      const ws = await openWs(`${server.ws}/?echo_delay=100`);
      const message = randomBytes(256 * 1024);
      const echo = new Promise<Buffer>((resolve) => ws.once("message", (data) => resolve(data as Buffer)));
      ws.send(message);
      assert.ok((await echo).equals(message), "the delayed echo differs from the message");
      ws.close();
    });

    test("delay counts against MAX_BUFFERED_BYTES: a client cannot park unbounded data", async () => {
      const limited = await startServer(entry, { env: { MAX_BUFFERED_BYTES: String(256 * 1024) } });
      try {
        const client = await RawClient.open(limited.port, handshakeHeaders(), {
          path: "/?echo_delay=1500&tag=parked",
        });
        const chunk = new Uint8Array(32 * 1024);
        for (let i = 0; i < 32; i++) {
          chunk[0] = i;
          client.send({ opcode: OP.BINARY, payload: chunk }); // 1 MiB in all, 4 × the limit
        }
        if (entry.runtime === "bun") {
          // Bun stops reading at the limit, then every echo arrives in order once the line moves.
          await sleep(800);
          const held = await infoRecord(limited, "parked");
          // Frames already read in the chunk that crossed the limit still arrive: uSockets reads up
          // to 512 KiB at a time (LIBUS_RECV_BUFFER_LENGTH).
          assert.ok(held.received.bytes <= 256 * 1024 + 512 * 1024, `read ${held.received.bytes} bytes`);
          assert.ok(held.received.bytes < 1024 * 1024, "Bun stopped reading before all 1 MiB");
          for (let i = 0; i < 32; i++) {
            const frame = await client.next(15_000);
            assert.equal(frame?.opcode, OP.BINARY);
            assert.equal(frame!.payload[0], i);
          }
        } else {
          // Deno cannot stop reading, so Echo stops echoing and closes with 1008 as for any client over
          // the limit (the delayed echoes are not in Deno's queue, so the close frame goes at once).
          const frame = await client.next(15_000);
          assert.equal(frame?.opcode, OP.CLOSE, "no echo came, only the close");
          assert.deepEqual(closeOf(frame!).code, 1008);
          client.send({ opcode: OP.CLOSE, payload: frame!.payload.subarray(0, 2) });
          await client.ended();
          const record = await eventually(() => infoRecord(limited, "parked"), (r) => r.closed !== undefined);
          const overflow = await eventually(
            () => Promise.resolve(logLines(limited).find((line) => line.event === "overflow")),
            (line) => line !== undefined,
          );
          assert.equal(overflow?.why, "delayed echoes exceed the send buffer limit");
          assert.ok(record.received.bytes <= 256 * 1024 + 32 * 1024, `read ${record.received.bytes} bytes`);
          assert.equal(record.sent.messages, 0);
        }
        client.destroy();
      } finally {
        await limited.stop();
      }
    });

    test("echo_close=4001&echo_after=2&echo_reason=: exactly two echoes, then that close code and reason", async () => {
      const reason = "bye for now";
      const url = `${server.ws}/?echo_close=4001&echo_after=2&echo_reason=${encodeURIComponent(reason)}`;
      // The runtime's own WebSocket, as a client library under test would see it.
      const seen = await new Promise<{ echoes: string[]; code: number; reason: string }>(
        (resolve, reject) => {
          const ws = new globalThis.WebSocket(url);
          const echoes: string[] = [];
          ws.onopen = () => ["a", "b"].forEach((m) => ws.send(m));
          ws.onmessage = (event) => echoes.push(String(event.data));
          ws.onclose = (event) => resolve({ echoes, code: event.code, reason: event.reason });
          setTimeout(() => reject(new Error("no close in 10 s")), 10_000);
        },
      );
      assert.deepEqual(seen, { echoes: ["a", "b"], code: 4001, reason });
    });

    // On Deno the close frame waits for the client to pause (tests/close_test.ts, docs/limits.md).
    test("echo_close=4001&echo_after=2: messages sent after the second get no echo, only the close", async () => {
      const client = await RawClient.open(server.port, handshakeHeaders(), {
        path: "/?echo_close=4001&echo_after=2",
      });
      for (const text of ["a", "b", "c", "d"]) client.send({ opcode: OP.TEXT, payload: text });
      assert.equal((await client.next())?.opcode, OP.TEXT);
      assert.equal((await client.next())?.opcode, OP.TEXT);
      assert.deepEqual(closeOf(await client.next()), { code: 4001, reason: "" });
      client.destroy();
    });

    test("echo_close=1012&echo_after_ms=300: the close frame comes after 300 ms, on the wire", async () => {
      const opened = performance.now();
      const client = await RawClient.open(server.port, handshakeHeaders(), {
        path: "/?echo_close=1012&echo_after_ms=300",
      });
      const close = closeOf(await client.next());
      assert.ok(performance.now() - opened >= 300);
      assert.deepEqual(close, { code: 1012, reason: "" });
      client.destroy();
    });

    test("echo_status=503: the client sees its handshake refused with 503", async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${server.ws}/?echo_status=503`);
        ws.on("unexpected-response", (_request, response) => resolve(response.statusCode!));
        ws.on("open", () => reject(new Error("opened")));
        ws.on("error", () => {});
      });
      assert.equal(status, 503);
      const raw = await RawClient.open(server.port, handshakeHeaders(), { path: "/?echo_status=418" });
      assert.equal(raw.response.status, 418);
      raw.destroy();
    });

    test("echo_protocol=: the 101 names the override, or none, whatever was offered", async () => {
      const offered = handshakeHeaders({ "Sec-WebSocket-Protocol": "chat, superchat" });
      const other = await RawClient.open(server.port, offered, { path: "/?echo_protocol=graphql-ws" });
      assert.equal(other.response.status, 101);
      assert.equal(other.response.headers.get("sec-websocket-protocol"), "graphql-ws");
      other.destroy();
      const none = await RawClient.open(server.port, offered, { path: "/?echo_protocol=none" });
      assert.equal(none.response.status, 101);
      assert.equal(none.response.headers.get("sec-websocket-protocol"), undefined);
      none.destroy();
      // A strict client refuses a subprotocol it did not offer: that is what the knob is for.
      const error = await new Promise<Error>((resolve) => {
        const ws = new WebSocket(`${server.ws}/?echo_protocol=graphql-ws`, ["chat"]);
        ws.on("error", resolve);
        ws.on("open", () => resolve(new Error("opened")));
      });
      assert.match(error.message, /Server sent an invalid subprotocol/);
    });

    test("invalid or unknown knobs get 400 naming the parameter, counted as knob in /metrics", async () => {
      const refusals = async () => {
        const metrics = await (await fetch(`${server.http}/metrics`)).text();
        return Number(/echo_handshakes_refused_total\{reason="knob"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      };
      const before = await refusals();
      let count = 0;
      for (
        const [query, named] of [
          ["echo_delay=10001", "echo_delay"],
          ["echo_close=1005", "echo_close"],
          ["echo_close=1000&echo_reason=" + "r".repeat(124), "echo_reason"],
          ["echo_status=302", "echo_status"],
          ["echo_compress=2", "echo_compress"],
          ["echo_protocol=a%20b", "echo_protocol"],
          ["echo_dealy=200", '"echo_dealy"'],
          // Deno refuses ping_ms whatever its value (501, below).
          ...(entry.runtime === "bun" ? [["echo_ping_ms=10", "echo_ping_ms"]] : []),
        ]
      ) {
        count++;
        const client = await RawClient.open(server.port, handshakeHeaders(), { path: `/?${query}` });
        assert.equal(client.response.status, 400, query);
        assert.ok(client.response.body.startsWith(`query parameter ${named}: `), client.response.body);
        client.destroy();
      }
      assert.equal(await refusals() - before, count);
    });

    if (entry.runtime === "bun") {
      test("echo_ping_ms=100: Echo pings at that interval and /info counts the pongs", async () => {
        const tag = "pinged";
        const client = await RawClient.open(server.port, handshakeHeaders(), {
          path: `/?echo_ping_ms=100&tag=${tag}`,
        });
        const started = performance.now();
        for (let i = 0; i < 3; i++) {
          const frame = await client.next();
          assert.equal(frame?.opcode, OP.PING);
          client.send({ opcode: OP.PONG, payload: frame!.payload });
        }
        assert.ok(performance.now() - started >= 200, "three pings took at least two intervals");
        const record = await eventually(() => infoRecord(server, tag), (r) => r.pings.pongs >= 3);
        assert.ok(record.pings.sent >= 3);
        assert.equal(record.pings.pongs, 3);
        assert.deepEqual(record.knobs, { pingMs: 100 });
        client.destroy();
      });

      test("echo_drop_after=1: one echo, then the TCP connection ends without a close frame", async () => {
        const client = await RawClient.open(server.port, handshakeHeaders(), {
          path: "/?echo_drop_after=1&tag=dropped",
        });
        client.send({ opcode: OP.TEXT, payload: "first" });
        client.send({ opcode: OP.TEXT, payload: "second" });
        const echo = await client.next();
        assert.equal(echo?.opcode, OP.TEXT);
        assert.equal(new TextDecoder().decode(echo!.payload), "first");
        assert.equal(await client.next(), undefined, "EOF, no close frame, no second echo");
        const code = await new Promise<number>((resolve) => {
          const ws = new WebSocket(`${server.ws}/?echo_drop_after=0`);
          ws.on("close", resolve);
          ws.on("error", () => {});
        });
        assert.equal(code, 1006, "ws reports an abnormal closure");
        const record = await eventually(() => infoRecord(server, "dropped"), (r) => r.closed !== undefined);
        assert.equal(record.closed.by, "server");
      });

      test("echo_compress=0|1 overrides the size rule on a deflate connection (RSV1 on the wire)", async () => {
        const rsv1 = async (query: string, payload: string) => {
          const client = await RawClient.open(
            server.port,
            handshakeHeaders({ "Sec-WebSocket-Extensions": DEFLATE }),
            { path: `/?${query}` },
          );
          assert.match(client.response.headers.get("sec-websocket-extensions") ?? "", /permessage-deflate/);
          client.send({ opcode: OP.TEXT, payload });
          const frame = await client.next();
          client.destroy();
          return frame!.rsv1;
        };
        const long = "x".repeat(1000);
        assert.equal(await rsv1("", "hi"), false, "plain: a short echo goes uncompressed");
        assert.equal(await rsv1("", long), true, "plain: a long echo goes compressed");
        assert.equal(await rsv1("echo_compress=1", "hi"), true);
        assert.equal(await rsv1("echo_compress=0", long), false);
      });
    } else {
      test("ping_ms and drop_after are refused with 501 saying Deno cannot", async () => {
        for (const knob of ["echo_ping_ms=1000", "echo_drop_after=1"]) {
          const client = await RawClient.open(server.port, handshakeHeaders(), { path: `/?${knob}` });
          assert.equal(client.response.status, 501);
          assert.match(client.response.body, /not available on Deno/);
          client.destroy();
        }
      });

      test("echo_compress=1 is accepted but Deno negotiates no deflate: frames stay uncompressed", async () => {
        const client = await RawClient.open(
          server.port,
          handshakeHeaders({ "Sec-WebSocket-Extensions": DEFLATE }),
          { path: "/?echo_compress=1" },
        );
        assert.equal(client.response.headers.get("sec-websocket-extensions"), undefined);
        client.send({ opcode: OP.TEXT, payload: "x".repeat(1000) });
        assert.equal((await client.next())?.rsv1, false);
        client.destroy();
      });
    }
  });

  describe(`KNOBS=off on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry, { env: { KNOBS: "off" } }));
    after(() => server.stop());

    test("a knob is refused with 403; other parameters are ignored and the echo is plain", async () => {
      const refused = await RawClient.open(server.port, handshakeHeaders(), { path: "/?echo_delay=200" });
      assert.equal(refused.response.status, 403);
      assert.match(refused.response.body, /^query parameter echo_delay: test knobs are disabled/);
      refused.destroy();
      const ws = await openWs(`${server.ws}/?token=abc&tag=t`);
      const echo = new Promise((resolve) => ws.once("message", (data) => resolve(data.toString())));
      ws.send("plain");
      assert.equal(await echo, "plain");
      ws.close();
    });
  });
}
