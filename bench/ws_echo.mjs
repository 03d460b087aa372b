/**
 * The reference point outside the two runtimes: Node's `ws` package, echoing.
 * `node bench/ws_echo.mjs --port 0`.
 */
import { WebSocketServer } from "ws";

const port = Number(process.argv[process.argv.indexOf("--port") + 1] || 0);
const server = new WebSocketServer({ host: "127.0.0.1", port });
server.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
});
server.on("listening", () => console.log(`Node ws listening on ws://127.0.0.1:${server.address().port}/`));
