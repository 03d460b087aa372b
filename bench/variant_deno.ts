/**
 * One Deno echo per binary type, for `bench/variants.ts`:
 * `deno run --allow-net bench/variant_deno.ts --variant NAME --port 0`.
 */
const VARIANTS: Record<string, (socket: WebSocket) => void> = {
  "arraybuffer": (socket) => {
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
  },
  "arraybuffer → Uint8Array (Echo)": (socket) => {
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) =>
      socket.send(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
  },
  "blob": (socket) => {
    socket.binaryType = "blob";
    socket.onmessage = (event) => socket.send(event.data);
  },
};

const argument = (name: string) => Deno.args[Deno.args.indexOf(name) + 1];
const setup = VARIANTS[argument("--variant")];
Deno.serve({
  hostname: "127.0.0.1",
  port: Number(argument("--port") ?? 0),
  onListen: ({ port }) => console.log(`variant listening on ws://127.0.0.1:${port}/`),
}, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  setup(socket);
  return response;
});
