/**
 * Issue #33, "Truth at the edges": a client that offers permessage-deflate, writes six binary messages in
 * one TCP write to `?echo_close=4001&echo_after=3` and pauses its reads gets its 3 echoes byte-exact and close 4001,
 * and Echo's record of each connection (its log line, `/metrics`) says what the client saw. On Bun a close
 * asked inside the message handler was ended by Bun's end timer with the echoes unread, while Echo
 * recorded a clean 4001 (docs/limits.md, "Close frames on Bun").
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { randomBytes, randomInt } from "node:crypto";
import { constants, inflateRawSync } from "node:zlib";
import { setTimeout as sleep } from "node:timers/promises";
import { ENTRIES, logLines, type RunningServer, startServer } from "./support/server.ts";
import { encodeFrame, FrameParser, OP } from "./support/raw.ts";

/** The tail a sync flush ends with, removed on the wire (RFC 7692 §7.2.1). */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** What one client saw. */
interface Seen {
  tag: string;
  /** Echoes received before the close frame or the end, each checked against what was sent. */
  echoes: number;
  exact: boolean;
  /** The close frame's code, or 1006 when the connection ended without one. */
  code: number;
}

interface Burst {
  /** Size range of each of the six messages, in bytes. */
  minBytes: number;
  maxBytes: number;
  /** How long the client leaves its reads paused after writing, in ms. */
  minPauseMs: number;
  maxPauseMs: number;
}

/**
 * One raw client: handshake offering permessage-deflate, six random binary messages in one write, reads
 * paused, then frames read to the close frame (answered) or the end.
 */
function burstClient(port: number, tag: string, burst: Burst): Promise<Seen> {
  return new Promise((resolve) => {
    const messages = Array.from(
      { length: 6 },
      () => randomBytes(randomInt(burst.minBytes, burst.maxBytes + 1)),
    );
    const socket = connect({ port, host: "127.0.0.1" });
    /** The 101's head, until it is whole; the frames after it go to the parser. */
    let head = Buffer.alloc(0);
    let upgraded = false;
    const parser = new FrameParser();
    const echoes: Uint8Array[] = [];
    let code: number | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const exact = echoes.every((echo, i) => Buffer.compare(echo, messages[i]) === 0);
      resolve({ tag, echoes: echoes.length, exact, code: code ?? 1006 });
    };
    const timer = setTimeout(finish, 30_000);
    socket.on("connect", () =>
      socket.write(
        `GET /?echo_close=4001&echo_after=3&tag=${tag} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
      ));
    socket.on("data", (chunk: Buffer) => {
      let frames: Uint8Array = chunk;
      if (!upgraded) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!head.subarray(0, 12).toString().startsWith("HTTP/1.1 101")) return finish();
        frames = head.subarray(end + 4);
        upgraded = true;
        // All six frames in one write, then no reading for a while.
        socket.write(Buffer.concat(messages.map((payload) => encodeFrame({ opcode: OP.BINARY, payload }))));
        socket.pause();
        setTimeout(() => socket.resume(), randomInt(burst.minPauseMs, burst.maxPauseMs + 1));
      }
      for (const frame of parser.push(frames)) {
        if (frame.opcode === OP.CLOSE) {
          code = frame.payload.length >= 2 ? Buffer.from(frame.payload).readUInt16BE(0) : 1005;
          socket.write(encodeFrame({ opcode: OP.CLOSE, payload: frame.payload.subarray(0, 2) }));
        } else if (code === undefined) {
          echoes.push(
            frame.rsv1
              ? inflateRawSync(Buffer.concat([frame.payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH })
              : frame.payload,
          );
        }
      }
    });
    socket.on("error", () => {});
    socket.on("close", finish);
  });
}

/** Runs `count` clients, `concurrency` at a time. */
async function burstClients(port: number, count: number, concurrency: number, burst: Burst): Promise<Seen[]> {
  const prefix = randomBytes(4).toString("hex");
  const seen: Seen[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) seen.push(await burstClient(port, `${prefix}-${next++}`, burst));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return seen;
}

/** Each tag's close as the server logged it, once every tag has one (log lines leave in batches). */
async function recordedCloses(server: RunningServer, tags: string[]): Promise<Map<string, string>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const closes = new Map<string, string>();
    for (const line of logLines(server)) {
      if (line.event === "close") closes.set(String(line.tag), `${line.code} ${line.closedBy}`);
    }
    if (tags.every((tag) => closes.has(tag)) || Date.now() > deadline) return closes;
    await sleep(100);
  }
}

/** `echo_closes_total` by code, from `/metrics`. */
async function closesByCode(server: RunningServer): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.http}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, code, n] of text.matchAll(/^echo_closes_total\{code="(\d+)"\} (\d+)$/gm)) {
    counts[code] = Number(n);
  }
  return counts;
}

for (const entry of ENTRIES) {
  describe(`close after a burst, reads paused, on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry, { env: { LOG_FORMAT: "json" } }));
    after(() => server.stop());

    test("the reported case, 500 clients: 3 byte-exact echoes and 4001 each, recorded as such", {
      timeout: 60_000,
    }, async () => {
      const before = await closesByCode(server);
      const seen = await burstClients(server.port, 500, 40, {
        minBytes: 1,
        maxBytes: 64 * 1024,
        minPauseMs: 0,
        maxPauseMs: 500,
      });
      const wrong = seen.filter((s) => !(s.echoes === 3 && s.exact && s.code === 4001));
      assert.deepEqual(wrong, [], `${wrong.length} of ${seen.length} clients saw something else`);
      const closes = await recordedCloses(server, seen.map((s) => s.tag));
      const mismatched = seen.filter((s) => closes.get(s.tag) !== "4001 server");
      assert.deepEqual(mismatched.map((s) => [s.tag, closes.get(s.tag)]), []);
      const after = await closesByCode(server);
      assert.equal((after["4001"] ?? 0) - (before["4001"] ?? 0), seen.length);
    });
  });
}
