/**
 * A churn soak: raw WebSocket clients (permessage-deflate offered, pings asked for where the entry
 * supports them) that abort at random points (before the 101, right after it, mid-frame, during a
 * burst they do not read, as a ping arrives, after their echoes), by FIN or by reset; then how long
 * the server's `/info` and `/metrics` take to show 0 live connections. Loopback only, bounded in
 * clients and seconds. `tests/churn_test.ts` runs it briefly; alone it soaks an entry:
 *
 *     bun tests/support/churn.ts --entry bun --seconds 480 --count 120000
 *
 * @module
 */
import { connect } from "node:net";
import { randomBytes, randomInt } from "node:crypto";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { FrameParser, OP } from "./raw.ts";
import { ENTRIES, startServer } from "./server.ts";

/** Where a client aborts. */
export const MODES = [
  "before101",
  "after101",
  "midframe",
  "afterEchoes",
  "afterEchoesRst",
  "burstAbort",
  "burstRst",
  "pingAbort",
] as const;

/** What to run. */
export interface ChurnOptions {
  /** At most this many clients… */
  count: number;
  /** …and no new client after this many seconds. */
  seconds: number;
  /** Clients at once. */
  concurrency?: number;
  /** `ping_ms` for 70% of the clients; 0: none (Deno refuses the knob). */
  pingMs?: number;
}

/** What a run did: clients by mode and how each ended, and the live counts once all had left. */
export interface ChurnResult {
  clients: number;
  ms: number;
  stats: Record<string, number>;
  /** `/info`'s and `/metrics`' live counts, the last read. */
  live: { info: number; active: number };
  /** Milliseconds from the last client leaving to 0 live, or -1 when not within `settleMs`. */
  settledMs: number;
}

type Socket = ReturnType<typeof connect>;

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = Buffer.alloc(2 + ext + 4 + len);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) out.writeUInt16BE(len, 2);
  if (ext === 8) out.writeBigUInt64BE(BigInt(len), 2);
  const key = randomBytes(4);
  key.copy(out, 2 + ext);
  const o = 2 + ext + 4;
  for (let i = 0; i < len; i++) out[o + i] = payload[i] ^ key[i & 3];
  return out;
}
/** Compressible payload (so the server deflates its echo). */
function payload(size: number): Buffer {
  const words = ["echo", "frame", "deflate", "ping", "close", "abort"];
  let s = "";
  while (s.length < size) s += words[randomInt(words.length)] + randomInt(1000) + " ";
  return Buffer.from(s.slice(0, size));
}

function one(port: number, id: number, pingMs: number, stats: Record<string, number>): Promise<void> {
  const mode = MODES[id % MODES.length];
  return new Promise((resolve) => {
    const deflate = Math.random() < 0.8;
    const ping = pingMs > 0 && Math.random() < 0.7 ? `&echo_ping_ms=${pingMs}` : "";
    const socket: Socket = connect({ port, host: "127.0.0.1" });
    /** The 101's head, until it is whole; the frames after it go to the parser. */
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const parser = new FrameParser();
    let echoes = 0;
    let done = false;
    const finish = (how: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stats[`${mode} ${how}`] = (stats[`${mode} ${how}`] ?? 0) + 1;
      resolve();
    };
    const abort = (rst: boolean) => {
      if (rst && socket.resetAndDestroy) socket.resetAndDestroy();
      else socket.destroy();
      finish(rst ? "rst" : "destroy");
    };
    const timer = setTimeout(() => abort(true), 10_000);
    socket.on("connect", () => {
      socket.write(
        `GET /?tag=churn${id}${ping} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
          (deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "") +
          "\r\n",
      );
      if (mode === "before101") setTimeout(() => abort(Math.random() < 0.5), randomInt(0, 3));
    });
    const afterUpgrade = () => {
      switch (mode) {
        case "after101":
          return abort(Math.random() < 0.5);
        case "midframe": {
          const f = frame(2, payload(randomInt(200, 60000)));
          socket.write(f.subarray(0, randomInt(1, f.length)));
          return setTimeout(() => abort(Math.random() < 0.5), randomInt(0, 20));
        }
        case "afterEchoes":
        case "afterEchoesRst":
        case "pingAbort":
          return socket.write(Buffer.concat([1, 2, 3].map(() => frame(2, payload(randomInt(1, 65536))))));
        case "burstAbort":
        case "burstRst": {
          socket.write(
            Buffer.concat(Array.from({ length: 6 }, () => frame(2, payload(randomInt(1000, 65536))))),
          );
          socket.pause();
          return setTimeout(() => abort(mode === "burstRst"), randomInt(0, 30));
        }
      }
    };
    socket.on("data", (chunk: Buffer) => {
      let frames: Uint8Array = chunk;
      if (!upgraded) {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.subarray(0, end).toString();
        frames = buf.subarray(end + 4);
        if (!head.startsWith("HTTP/1.1 101")) return abort(false);
        upgraded = true;
        afterUpgrade();
      }
      for (const { opcode } of parser.push(frames)) {
        if (done) return;
        if (opcode === OP.PING) {
          // A ping: pingAbort aborts right as it arrives, without answering.
          if (mode === "pingAbort") return abort(Math.random() < 0.5);
          continue;
        }
        if (opcode === OP.TEXT || opcode === OP.BINARY) {
          echoes++;
          if (echoes === 3 && (mode === "afterEchoes" || mode === "afterEchoesRst")) {
            setTimeout(() => abort(mode === "afterEchoesRst"), randomInt(0, 250));
          }
        }
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => finish("closed"));
  });
}

/** `/info`'s and `/metrics`' live WebSocket counts. */
export async function liveCounts(port: number): Promise<{ info: number; active: number }> {
  const info = await (await fetch(`http://127.0.0.1:${port}/info?limit=1`)).json();
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const active = Number(/^echo_connections_active(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1]);
  return { info: info.counts?.live, active };
}

/** Churns clients against the server on `port`, then waits up to `settleMs` for 0 live. */
export async function churn(port: number, options: ChurnOptions, settleMs = 10_000): Promise<ChurnResult> {
  const stats: Record<string, number> = {};
  const start = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < options.count && Date.now() - start < options.seconds * 1000) {
      await one(port, next++, options.pingMs ?? 100, stats);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 50 }, worker));
  const left = Date.now();
  let live = await liveCounts(port);
  while ((live.info !== 0 || live.active !== 0) && Date.now() - left < settleMs) {
    await sleep(100);
    live = await liveCounts(port);
  }
  const settled = live.info === 0 && live.active === 0;
  return { clients: next, ms: left - start, stats, live, settledMs: settled ? Date.now() - left : -1 };
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string) => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 ? args[at + 1] : fallback;
  };
  const entry = ENTRIES.find((e) => e.name === flag("entry", "bun"))!;
  // IDLE_TIMEOUT_SECONDS=0: no idle sweep to hide a connection whose close was never reported.
  const server = await startServer(entry, { env: { IDLE_TIMEOUT_SECONDS: "0", LOG_LEVEL: "warn" } });
  try {
    const result = await churn(server.port, {
      count: Number(flag("count", "120000")),
      seconds: Number(flag("seconds", "480")),
      concurrency: Number(flag("concurrency", "50")),
      pingMs: entry.name === "deno" ? 0 : 100,
    });
    console.log(JSON.stringify(result));
    process.exitCode = result.settledMs < 0 ? 1 : 0;
  } finally {
    await server.stop();
  }
}
