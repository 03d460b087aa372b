/**
 * The page a browser gets at `GET /`: connect, send, watch the echoes, and compare the browser's
 * view of the handshake with the server's `/info?tag=` record. One string, no framework, no
 * external resources, so it works offline and a deployment needs no file reads.
 *
 * Every value that came from a client (headers, tags, messages) is set with `textContent`,
 * never parsed as HTML: header values are attacker-controlled.
 *
 * @module
 */
import { knobParameter } from "../knobs.ts";

/** The handshake headers, one line each, as the page explains them. */
export const HEADER_NOTES: ReadonlyArray<readonly [string, string]> = [
  ["Upgrade: websocket", "asks the server to switch this HTTP/1.1 connection to the WebSocket protocol."],
  ["Connection: Upgrade", "says the Upgrade header is meant for this hop, not to be forwarded."],
  ["Sec-WebSocket-Version: 13", "the only version of RFC 6455; anything else gets 426."],
  ["Sec-WebSocket-Key", "16 random bytes in base64, proving the server speaks WebSocket, not secrecy."],
  ["Sec-WebSocket-Accept", "base64(SHA-1(key + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11)), the server's proof."],
  [
    "Sec-WebSocket-Protocol",
    "subprotocols the client offers; the 101 names the one chosen (Echo takes the first).",
  ],
  ["Sec-WebSocket-Extensions", "extensions offered (permessage-deflate); the 101 carries what was agreed."],
  ["Origin", "the page's origin, sent by browsers so a server can refuse cross-site sockets."],
];

/** The knob fields: knob and hint; the script adds each non-empty one to the URL as `echo_<knob>`. */
export const KNOB_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ["delay", "ms, 0-10000"],
  ["close", "code, e.g. 1000 or 4000"],
  ["after", "messages"],
  ["after_ms", "ms"],
  ["reason", "close reason"],
  ["status", "HTTP 400-599"],
  ["ping_ms", "ms, Bun only"],
  ["drop_after", "messages, Bun only"],
  ["compress", "0 or 1, Bun only"],
  ["protocol", "none or a name"],
];

function knobField([knob, hint]: readonly [string, string]): string {
  const name = knobParameter(knob);
  return `  <label>${name} <input type="text" size="10" data-knob="${name}" placeholder="${hint}"></label>`;
}

const SCRIPT = String.raw`
"use strict";
const $ = (id) => document.getElementById(id);
let ws = null;

function randomTag() {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
function setText(id, value) {
  $(id).textContent = value === null || value === undefined ? "(none)" : String(value);
}
function now() {
  return new Date().toISOString().slice(11, 23);
}
function size(data) {
  return typeof data === "string" ? new TextEncoder().encode(data).length : data.byteLength;
}
function preview(data) {
  if (typeof data === "string") return data.length > 80 ? data.slice(0, 80) + "…" : data;
  const bytes = Array.from(new Uint8Array(data).slice(0, 32), (b) => b.toString(16).padStart(2, "0"));
  return bytes.join(" ") + (data.byteLength > 32 ? " …" : "");
}
function log(direction, data) {
  const row = document.createElement("tr");
  const cells = [now(), direction, typeof data === "string" ? "text" : "binary", String(size(data)), preview(data)];
  for (const value of cells) {
    const cell = document.createElement("td");
    cell.textContent = value;
    row.append(cell);
  }
  $("log").append(row);
}
function showBrowser() {
  setText("browser-state", ws ? ["connecting", "open", "closing", "closed"][ws.readyState] : "not connected");
  setText("browser-url", ws ? ws.url : null);
  setText("browser-protocol", ws ? ws.protocol || "(none)" : null);
  setText("browser-extensions", ws ? ws.extensions || "(none)" : null);
}
function pairs(list, entries) {
  for (const [name, value] of entries) {
    const term = document.createElement("dt");
    term.textContent = name;
    const detail = document.createElement("dd");
    detail.textContent = value === null || value === undefined || value === "" ? "(none)" : String(value);
    list.append(term, detail);
  }
}
function showRecord(record) {
  const section = document.createElement("section");
  section.className = "record";
  const title = document.createElement("h3");
  title.textContent = "connection " + record.id + (record.closed ? " (closed)" : " (live)");
  const list = document.createElement("dl");
  const r = record.request, s = record.response;
  pairs(list, [
    ["held by member", record.member ? record.member.id + " (pid " + record.member.pid + ")" : null],
    ["tag", record.tag], ["remote address", record.remoteAddress], ["path", record.path],
    ["request Origin", r.origin], ["request User-Agent", r.userAgent], ["request Sec-WebSocket-Key", r.key],
    ["request Sec-WebSocket-Extensions", r.extensions], ["request Sec-WebSocket-Protocol", r.protocol],
    ["101 Sec-WebSocket-Accept", s.accept], ["101 Sec-WebSocket-Extensions", s.extensions],
    ["101 Sec-WebSocket-Protocol", s.protocol],
  ]);
  if (record.extensionsNote) pairs(list, [["why no extension", record.extensionsNote]]);
  if (record.knobs && Object.keys(record.knobs).length) pairs(list, [["knobs", JSON.stringify(record.knobs)]]);
  if (record.pings && record.pings.sent) {
    pairs(list, [["pings", record.pings.sent + " sent, " + record.pings.pongs + " pongs back"]]);
  }
  pairs(list, [
    ["received by server", record.received.messages + " messages, " + record.received.bytes + " bytes"],
    ["sent by server", record.sent.messages + " messages, " + record.sent.bytes + " bytes"],
  ]);
  if (record.closed) {
    pairs(list, [["closed", record.closed.code + " " + record.closed.reason + " by " + record.closed.by]]);
  }
  section.append(title, list);
  return section;
}
// Behind a load balancer /info may reach another replica, which learns of a new connection through
// FLEET_URL's engine within a second: a miss while the socket is open is asked again, a few times.
let misses = 0;
let retry;
async function refreshServer() {
  clearTimeout(retry);
  const tag = $("tag").value;
  const status = $("server-status");
  try {
    const response = await fetch("/info?tag=" + encodeURIComponent(tag), { cache: "no-store" });
    const info = await response.json();
    const records = info.live.concat(info.recent);
    // With several members (threads, isolates, replicas), /info asked the fleet: say who answered.
    const answeredBy = info.fleet && info.fleet.member ? ", answered by member " + info.fleet.member.id : "";
    status.textContent = info.runtime.name + " " + info.runtime.version + ", Echo " + info.echo.version +
      answeredBy + ": " + records.length + " connection(s) tagged " + JSON.stringify(tag);
    $("server-records").replaceChildren(...records.map(showRecord));
    explainExtensions(info.live[0]);
    if (records.length > 0) misses = 0;
    else if (ws && ws.readyState === 1 && ++misses <= 10) retry = setTimeout(refreshServer, 500);
  } catch (error) {
    status.textContent = "could not read /info: " + error;
  }
}
// RFC 6455 lets a browser report the agreed extensions as it likes: Firefox gives ws.extensions
// as "permessage-deflate" alone, by design, where the 101 carried parameters (Bun's does).
function explainExtensions(record) {
  const browser = ws && ws.readyState === 1 ? ws.extensions : null;
  const server = record ? record.response.extensions : null;
  const note = browser === null || server === null || browser === server ? "" :
    "the browser reports " + JSON.stringify(browser) + " while the 101 carried " + JSON.stringify(server) +
      ": browsers may report an extension without its parameters (Firefox reports only " +
      "permessage-deflate, by design); the 101 is what the server sent and applies";
  setText("extensions-note", note || "(they agree)");
}
function connect() {
  if (ws && ws.readyState < 2) ws.close(1000, "reconnect");
  misses = 0;
  const url = new URL($("url").value);
  url.searchParams.set("tag", $("tag").value);
  for (const field of document.querySelectorAll("[data-knob]")) {
    const value = field.value.trim();
    if (value !== "") url.searchParams.set(field.dataset.knob, value);
  }
  const protocol = $("protocol").value.trim();
  try {
    ws = protocol ? new WebSocket(url, protocol.split(",").map((p) => p.trim())) : new WebSocket(url);
  } catch (error) {
    setText("browser-state", "cannot connect: " + error.message);
    return;
  }
  ws.binaryType = "arraybuffer";
  const socket = ws;
  socket.onopen = () => {
    showBrowser();
    refreshServer();
  };
  socket.onmessage = (event) => {
    log("← echo", event.data);
    refreshServer();
  };
  socket.onclose = (event) => {
    if (socket === ws) showBrowser();
    setText("browser-close", event.code + " " + event.reason + (event.wasClean ? "" : " (not clean)"));
    setTimeout(refreshServer, 200);
  };
  socket.onerror = () => setText("browser-state", "error (see the close code)");
  showBrowser();
}
function parseHex(text) {
  const digits = text.replace(/[\s,]/g, "").replace(/^0x/i, "");
  if (digits.length % 2 || /[^0-9a-f]/i.test(digits)) throw new Error("hex needs pairs of 0-9a-f");
  return Uint8Array.from(digits.match(/../g) || [], (pair) => parseInt(pair, 16));
}
function send(data) {
  if (!ws || ws.readyState !== 1) {
    setText("send-error", "not connected");
    return;
  }
  setText("send-error", "");
  ws.send(data);
  log("→ sent", typeof data === "string" ? data : data.buffer);
}

$("url").value = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
$("tag").value = new URLSearchParams(location.search).get("tag") || randomTag();
$("connect").onclick = connect;
$("disconnect").onclick = () => ws && ws.close(1000, "bye");
$("send-text").onclick = () => send($("text").value);
$("send-binary").onclick = () => {
  try {
    send(parseHex($("hex").value));
  } catch (error) {
    setText("send-error", error.message);
  }
};
$("refresh").onclick = refreshServer;
showBrowser();

let events = null;
function stopEvents() {
  if (events) events.close();
  events = null;
}
$("sse-start").onclick = () => {
  stopEvents();
  $("sse-log").replaceChildren();
  const url = "/sse?count=" + encodeURIComponent($("sse-count").value) +
    "&interval_ms=" + encodeURIComponent($("sse-interval").value);
  const source = new EventSource(url);
  events = source;
  setText("sse-state", "connecting to " + url);
  source.onopen = () => setText("sse-state", "open");
  source.onmessage = (event) => {
    const item = document.createElement("li");
    item.textContent = now() + " id " + event.lastEventId + ": " + event.data;
    $("sse-log").append(item);
  };
  // Echo answers a finished stream's reconnection with 204, which closes the EventSource for good.
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      setText("sse-state", "ended after " + $("sse-log").children.length + " events");
    } else setText("sse-state", "reconnecting");
  };
};
$("sse-stop").onclick = () => {
  stopEvents();
  setText("sse-state", "stopped");
};
`;

const STYLE = `
body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1b1b; }
h1 { margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; } h3 { font-size: 1rem; margin: .5rem 0; }
fieldset { border: 1px solid #ccc; border-radius: 6px; margin: .5rem 0; }
label { display: inline-block; margin: .25rem 1rem .25rem 0; } input { font: inherit; }
input[type=text] { min-width: 16rem; } #url { min-width: 22rem; }
.views { display: grid; grid-template-columns: 1fr 2fr; gap: 1rem; }
.views > div { border: 1px solid #ccc; border-radius: 6px; padding: .5rem 1rem; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dt { font-weight: 600; } dd { margin: 0; font-family: ui-monospace, monospace; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid #eee; padding: .2rem .5rem; text-align: left; }
td:last-child { font-family: ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
.error { color: #a00; }
`;

/** The whole page, served as is. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Echo: WebSocket echo server</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Echo</h1>
<p>A WebSocket echo server: every message comes back unchanged, text as text, binary as binary.
HTTP requests and server-sent events are echoed too (below).</p>
<fieldset>
  <legend>Connection</legend>
  <label>URL <input id="url" type="text"></label>
  <label>tag <input id="tag" type="text"></label>
  <label>subprotocols (optional, comma list) <input id="protocol" type="text"></label>
  <button id="connect" type="button">Connect</button>
  <button id="disconnect" type="button">Close</button>
</fieldset>
<fieldset>
  <legend>Test knobs (optional; see docs/knobs.md)</legend>
${KNOB_FIELDS.map(knobField).join("\n")}
</fieldset>
<fieldset>
  <legend>Send</legend>
  <label>text <input id="text" type="text" value="hello"></label>
  <button id="send-text" type="button">Send text</button>
  <label>binary, hex <input id="hex" type="text" value="00 01 fe ff"></label>
  <button id="send-binary" type="button">Send binary</button>
  <span id="send-error" class="error"></span>
</fieldset>
<div class="views">
  <div>
    <h2>The browser's view</h2>
    <dl>
      <dt>state</dt><dd id="browser-state"></dd>
      <dt>url</dt><dd id="browser-url"></dd>
      <dt>ws.protocol</dt><dd id="browser-protocol"></dd>
      <dt>ws.extensions</dt><dd id="browser-extensions"></dd>
      <dt>vs the 101</dt><dd id="extensions-note">(not compared yet)</dd>
      <dt>close</dt><dd id="browser-close">(none)</dd>
    </dl>
  </div>
  <div>
    <h2>The server's view: <code>/info?tag=</code> <button id="refresh" type="button">Refresh</button></h2>
    <p id="server-status">not asked yet</p>
    <div id="server-records"></div>
  </div>
</div>
<h2>Messages</h2>
<table>
  <thead><tr><th>time</th><th>direction</th><th>type</th><th>bytes</th><th>data</th></tr></thead>
  <tbody id="log"></tbody>
</table>
<h2>HTTP and SSE echo</h2>
<p>Every path that is not one of Echo's own answers with the request as it arrived, as JSON:
try <a id="http-echo" href="/echo/example?x=1">/echo/example?x=1</a>, or
<code>curl --data-binary @file HOST:PORT/any/path</code>.</p>
<fieldset>
  <legend>Server-sent events: <code>/sse</code></legend>
  <label>count <input id="sse-count" type="text" size="6" value="5"></label>
  <label>interval_ms <input id="sse-interval" type="text" size="6" value="500"></label>
  <button id="sse-start" type="button">Start</button>
  <button id="sse-stop" type="button">Stop</button>
  <span id="sse-state">not started</span>
</fieldset>
<ol id="sse-log"></ol>
<h2>The handshake headers</h2>
<dl>
${HEADER_NOTES.map(([name, note]) => `  <dt>${name}</dt><dd>${note}</dd>`).join("\n")}
</dl>
<script>${SCRIPT}</script>
</body>
</html>
`;
