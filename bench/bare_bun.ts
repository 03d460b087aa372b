/**
 * The baseline: the shortest Bun echo, with no validation, counting or logging.
 * `bun run bench/bare_bun.ts --port 0`. With permessage-deflate negotiated it compresses every echo.
 */
const port = Number(process.argv[process.argv.indexOf("--port") + 1] || 0);
const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch: (request, server) => server.upgrade(request) ? undefined : new Response("echo\n"),
  websocket: { perMessageDeflate: true, message: (ws, message) => void ws.send(message, true) },
});
console.log(`bare Bun listening on ws://127.0.0.1:${server.port}/`);
