/**
 * One Bun echo per way of sending, for `bench/variants.ts`:
 * `bun run bench/variant_bun.ts --variant NAME --port 0`.
 */
import type { ServerWebSocket } from "bun";

type Echo = (ws: ServerWebSocket<undefined>, message: string | Buffer) => void;
const COMPRESS_MIN_BYTES = 64;
const FRAMED_WHOLE_BYTES = 1024 * 1024;
const size = (m: string | Buffer) => typeof m === "string" ? m.length : m.byteLength;

/** The ways to echo; the deflate ones differ only in which messages they compress. */
export const VARIANTS: Record<string, Echo> = {
  "send(m, false)": (ws, m) => void ws.send(m, false),
  "send(m)": (ws, m) => void ws.send(m),
  "sendText / sendBinary": (ws, m) => void (typeof m === "string" ? ws.sendText(m, false) : ws.sendBinary(m, false)),
  // Without deflate negotiated the flag only picks how uWebSockets writes the frame (see bun/server.ts).
  "send(m, true)": (ws, m) => void ws.send(m, true),
  "send(m, size ≥ 1 MiB) (Echo)": (ws, m) => void ws.send(m, size(m) >= FRAMED_WHOLE_BYTES),
  "compress never": (ws, m) => void ws.send(m, false),
  "compress ≥ 64 B (Echo)": (ws, m) => void ws.send(m, size(m) >= COMPRESS_MIN_BYTES),
  "compress always": (ws, m) => void ws.send(m, true),
};

if (import.meta.main) {
  const argument = (name: string) => process.argv[process.argv.indexOf(name) + 1];
  const message = VARIANTS[argument("--variant")];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: Number(argument("--port") ?? 0),
    fetch: (request, server) => server.upgrade(request) ? undefined : new Response("echo\n"),
    websocket: { perMessageDeflate: true, message },
  });
  console.log(`variant listening on ws://127.0.0.1:${server.port}/`);
}
