/**
 * The page a browser gets at `GET /`: connect, send, watch the echoes, and compare the browser's
 * view of the handshake with the server's `/info?tag=` record. One string, no framework, no
 * external resources, so it works offline and a deployment needs no file reads. Its script is
 * [`page_script.ts`](./page_script.ts), a typed function whose source text the page embeds.
 *
 * Every value that came from a client (headers, tags, messages) is set with `textContent`,
 * never parsed as HTML: header values are attacker-controlled.
 *
 * @module
 */
import { knobParameter } from "../knobs.ts";
import { pageScript } from "./page_script.ts";

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

/**
 * The script, from its typed source: the function's text as the runtime holds it (JavaScript, types
 * stripped), called at once, in strict mode whatever the runtime's transpiler keeps of directives.
 * `ws`, the socket the page holds, is the script's one global, for the browser's console.
 */
const SCRIPT = `
"use strict";
let ws = null;
(${pageScript})();
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
.messages { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; } .messages p { margin: 0 0 .25rem; color: #555; }
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
<div class="messages">
  <div>
    <h3>The browser's: what it sent and got back</h3>
    <p>as the page's <code>WebSocket</code> saw them</p>
    <table>
      <thead><tr><th>time</th><th>direction</th><th>type</th><th>bytes</th><th>data</th></tr></thead>
      <tbody id="log"></tbody>
    </table>
  </div>
  <div>
    <h3>The server's: what it received and sent</h3>
    <p id="server-log-note">not asked yet</p>
    <table>
      <thead><tr><th>time</th><th>direction</th><th>type</th><th>bytes</th><th>data</th></tr></thead>
      <tbody id="server-log"></tbody>
    </table>
  </div>
</div>
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
