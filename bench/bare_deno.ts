/**
 * The baseline: the shortest Deno echo, with no validation, counting or logging.
 * `deno run --allow-net bench/bare_deno.ts --port 0`.
 */
const port = Number(Deno.args[Deno.args.indexOf("--port") + 1] || 0);
Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ port }) => console.log(`bare Deno listening on ws://127.0.0.1:${port}/`),
}, (request) => {
  if (request.headers.get("upgrade") !== "websocket") return new Response("echo\n");
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (event) => socket.send(event.data);
  return response;
});
