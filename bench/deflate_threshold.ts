/**
 * Where does compressing an echo stop paying? Run with `bun run bench/deflate_threshold.ts`.
 *
 * A Bun server with permessage-deflate (Echo's configuration) echoes every message twice,
 * once with `send(m, true)` and once with `send(m, false)`; a raw client reads both frames
 * and compares their sizes on the wire. The server also times each kind of send.
 */
import { connect } from "node:net";
import { randomBytes } from "node:crypto";
import { encodeFrame, FrameParser, OP } from "../tests/support/raw.ts";

const SIZES = [1, 8, 16, 24, 32, 48, 64, 96, 128, 256, 1024, 4096];
const SENDS = 2000;
const english = "the quick brown fox jumps over the lazy dog while echo servers repeat every word ".repeat(200);
const KINDS: Record<string, (n: number) => string | Uint8Array> = {
  "english text": (n) => english.slice(0, n),
  "JSON": (n) => JSON.stringify({ id: 42, type: "update", values: [1, 2, 3], name: "x".repeat(n) }).slice(0, n),
  "random bytes": (n) => new Uint8Array(randomBytes(n)),
};


const server = Bun.serve({
  port: 0,
  fetch: (req, srv) => srv.upgrade(req) ? undefined : new Response("no", { status: 400 }),
  websocket: {
    perMessageDeflate: true,
    message(ws, message) {
      ws.send(message, true);
      ws.send(message, false);
    },
  },
});

const socket = connect(server.port!, "127.0.0.1");
await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
socket.write(
  `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
    `Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n`,
);
const parser = new FrameParser();
const queue: Uint8Array[] = [];
let headDone = false;
let wake = () => {};
socket.on("data", (chunk: Buffer) => {
  let bytes = new Uint8Array(chunk);
  if (!headDone) {
    const end = chunk.indexOf("\r\n\r\n");
    if (end < 0) return;
    headDone = true;
    bytes = bytes.subarray(end + 4);
  }
  for (const frame of parser.push(bytes)) {
    const header = frame.payload.length < 126 ? 2 : frame.payload.length < 65536 ? 4 : 10;
    queue.push(new Uint8Array([frame.rsv1 ? 1 : 0, header]), frame.payload);
  }
  wake();
});
async function frameSize(): Promise<{ rsv1: boolean; wire: number }> {
  while (queue.length < 2) await new Promise<void>((resolve) => wake = resolve);
  const [meta, payload] = queue.splice(0, 2);
  return { rsv1: meta[0] === 1, wire: meta[1] + payload.length };
}

console.log("| kind | size | plain frame | compressed frame | saved |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const [kind, make] of Object.entries(KINDS)) {
  for (const size of SIZES) {
    const payload = make(size);
    socket.write(encodeFrame({ opcode: typeof payload === "string" ? OP.TEXT : OP.BINARY, payload }));
    const compressed = await frameSize();
    const plain = await frameSize();
    console.log(
      `| ${kind} | ${size} | ${plain.wire} | ${compressed.wire}${compressed.rsv1 ? "" : " (not compressed)"} | ${
        plain.wire - compressed.wire
      } |`,
    );
  }
}

// CPU: compress vs plain send cost on the server, per message, at a few sizes.
console.log("\n| size | send(m, false) ns | send(m, true) ns |");
console.log("| ---: | ---: | ---: |");
const cpu = Bun.serve({
  port: 0,
  fetch: (req, srv) => srv.upgrade(req) ? undefined : new Response("no", { status: 400 }),
  websocket: {
    perMessageDeflate: true,
    message(ws, message) {
      const result: number[] = [];
      for (const compress of [false, true]) {
        const start = Bun.nanoseconds();
        for (let i = 0; i < SENDS; i++) ws.send(message, compress);
        result.push((Bun.nanoseconds() - start) / SENDS);
      }
      ws.send(JSON.stringify(result));
    },
  },
});
for (const size of [16, 32, 64, 128, 1024]) {
  const ns = await new Promise<number[]>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${cpu.port}/`);
    ws.onopen = () => ws.send(english.slice(0, size));
    ws.onmessage = (e) => {
      if (typeof e.data === "string" && e.data.startsWith("[")) {
        ws.close();
        resolve(JSON.parse(e.data));
      }
    };
  });
  console.log(`| ${size} | ${ns[0].toFixed(0)} | ${ns[1].toFixed(0)} |`);
}
socket.destroy();
server.stop(true);
cpu.stop(true);
