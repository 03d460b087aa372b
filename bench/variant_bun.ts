/**
 * One Bun echo per way of sending, for `bench/variants.ts`:
 * `bun run bench/variant_bun.ts --variant NAME --port 0`.
 */
import type { ServerWebSocket } from "bun";

type Echo = (ws: ServerWebSocket<undefined>, message: string | Buffer) => void;
const COMPRESS_MIN_BYTES = 64;

/** The ways to echo; the deflate ones differ only in which messages they compress. */
export const VARIANTS: Record<string, Echo> = {
  "send(m, false)": (ws, m) => void ws.send(m, false),
  "send(m)": (ws, m) => void ws.send(m),
  "sendText / sendBinary": (ws, m) => void (typeof m === "string" ? ws.sendText(m, false) : ws.sendBinary(m, false)),
  "compress never": (ws, m) => void ws.send(m, false),
  "compress ≥ 64 B (Echo)": (ws, m) => void ws.send(m, (typeof m === "string" ? m.length : m.byteLength) >= COMPRESS_MIN_BYTES),
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
