/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The script of the page at `GET /` ([`page.ts`](./page.ts)), as a typed function that runs in the
 * browser. `page.ts` embeds its source text, `String(pageScript)`, which both runtimes (and the compiled
 * binary) give as JavaScript with the types stripped. So the function must be self-contained: it may use
 * the browser's globals, the page's one global `ws` and what it declares inside itself, never a module
 * variable or an import (the types below are erased, so they may live outside it).
 * `lib/http/tsconfig.page.json` checks this file as browser code alone (the DOM, no runtime's types) in
 * `npm run check`; `tests/page_test.ts` runs it in Chromium.
 *
 * Every value that came from a client (headers, tags, messages) is set with `textContent`, never parsed as
 * HTML: header values are attacker-controlled.
 *
 * @module
 */

/** Messages received or sent, as the browser's `WebSocket` gives them (`binaryType = "arraybuffer"`). */
type Data = string | ArrayBuffer;

/** Bytes and messages counted one way. */
interface Traffic {
  messages: number;
  bytes: number;
}

/** The fields of a `/info` connection record the page shows (a record in full: the page asks by tag). */
interface PageRecord {
  id: number;
  member?: { id: string; pid: number };
  tag: string | null;
  remoteAddress: string | null;
  path: string;
  request: {
    origin: string | null;
    userAgent: string | null;
    key: string | null;
    extensions: string | null;
    protocol: string | null;
  };
  response: { accept: string | null; extensions: string | null; protocol: string | null };
  extensionsNote?: string;
  knobs?: Record<string, unknown>;
  pings?: { sent: number; pongs: number };
  received: Traffic;
  sent: Traffic;
  closed?: { code: number; reason: string; by: string } | null;
  /** The server's view of the messages (a tagged connection's full record; docs/info.md, "Message log"). */
  messageLog?: {
    logged: number;
    messages: Array<{
      at: string;
      direction: "received" | "sent";
      type: "text" | "binary";
      bytes: number;
      preview: string;
      truncated: boolean;
    }>;
    note?: string;
  };
}

/** The fields of `/info?tag=` the page reads. */
interface PageInfo {
  echo: { version: string };
  runtime: { name: string; version: string };
  fleet?: { member?: { id: string } | null } | null;
  live: PageRecord[];
  recent: PageRecord[];
}

/**
 * The page's current WebSocket: a global of the page's script, declared beside this function where
 * `page.ts` embeds it (`let ws = null;`), so that the browser's console, and the page's test, can look
 * at the socket the page holds.
 */
declare let ws: WebSocket | null;

/** The page's behaviour: run once, as `(pageScript)()`, when the page's body has been parsed. */
export function pageScript(): void {
  const $ = (id: string): HTMLElement => {
    const element = document.getElementById(id);
    if (element === null) throw new Error("the page has no #" + id);
    return element;
  };
  const field = (id: string): HTMLInputElement => {
    const element = $(id);
    if (!(element instanceof HTMLInputElement)) throw new Error("#" + id + " is not an input");
    return element;
  };

  function randomTag(): string {
    const bytes = crypto.getRandomValues(new Uint8Array(6));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function setText(id: string, value: unknown): void {
    $(id).textContent = value === null || value === undefined ? "(none)" : String(value);
  }
  function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
  }
  function now(): string {
    return new Date().toISOString().slice(11, 23);
  }
  function size(data: Data): number {
    return typeof data === "string" ? new TextEncoder().encode(data).length : data.byteLength;
  }
  function preview(data: Data): string {
    if (typeof data === "string") return data.length > 80 ? data.slice(0, 80) + "…" : data;
    const bytes = Array.from(new Uint8Array(data).slice(0, 32), (b) => b.toString(16).padStart(2, "0"));
    return bytes.join(" ") + (data.byteLength > 32 ? " …" : "");
  }
  function row(cells: string[]): HTMLElement {
    const tr = document.createElement("tr");
    for (const value of cells) {
      const cell = document.createElement("td");
      cell.textContent = value;
      tr.append(cell);
    }
    return tr;
  }
  function log(direction: string, data: Data): void {
    $("log").append(
      row([
        now(),
        direction,
        typeof data === "string" ? "text" : "binary",
        String(size(data)),
        preview(data),
      ]),
    );
  }
  // The server's list beside the browser's, in the same shape: its binary preview (base64 of the first
  // 64 bytes) shown as the browser's is, hex of the first 32, so that the two columns compare at a glance.
  function showServerLog(record: PageRecord | undefined): void {
    const messageLog = record ? record.messageLog : undefined;
    if (!record || !messageLog) {
      setText("server-log-note", record ? "no log in this record" : "no connection with this tag yet");
      $("server-log").replaceChildren();
      return;
    }
    const shown = messageLog.messages.length;
    setText(
      "server-log-note",
      messageLog.note ||
        "connection " + record.id + ": the last " + shown + " of " + messageLog.logged + " messages",
    );
    $("server-log").replaceChildren(...messageLog.messages.map((m) => {
      let data = m.preview;
      if (m.type === "binary") {
        const bytes = Array.from(atob(m.preview), (c) => c.charCodeAt(0).toString(16).padStart(2, "0"));
        data = bytes.slice(0, 32).join(" ") + (m.bytes > 32 ? " …" : "");
      } else if (m.truncated) data += "…";
      return row([
        m.at.slice(11, 23),
        m.direction === "received" ? "→ received" : "← sent",
        m.type,
        String(m.bytes),
        data,
      ]);
    }));
  }
  function showBrowser(): void {
    setText(
      "browser-state",
      ws ? ["connecting", "open", "closing", "closed"][ws.readyState] : "not connected",
    );
    setText("browser-url", ws ? ws.url : null);
    setText("browser-protocol", ws ? ws.protocol || "(none)" : null);
    setText("browser-extensions", ws ? ws.extensions || "(none)" : null);
  }
  function pairs(list: HTMLElement, entries: Array<[string, unknown]>): void {
    for (const [name, value] of entries) {
      const term = document.createElement("dt");
      term.textContent = name;
      const detail = document.createElement("dd");
      detail.textContent = value === null || value === undefined || value === "" ? "(none)" : String(value);
      list.append(term, detail);
    }
  }
  function showRecord(record: PageRecord): HTMLElement {
    const section = document.createElement("section");
    section.className = "record";
    const title = document.createElement("h3");
    title.textContent = "connection " + record.id + (record.closed ? " (closed)" : " (live)");
    const list = document.createElement("dl");
    const r = record.request, s = record.response;
    pairs(list, [
      ["held by member", record.member ? record.member.id + " (pid " + record.member.pid + ")" : null],
      ["tag", record.tag],
      ["remote address", record.remoteAddress],
      ["path", record.path],
      ["request Origin", r.origin],
      ["request User-Agent", r.userAgent],
      ["request Sec-WebSocket-Key", r.key],
      ["request Sec-WebSocket-Extensions", r.extensions],
      ["request Sec-WebSocket-Protocol", r.protocol],
      ["101 Sec-WebSocket-Accept", s.accept],
      ["101 Sec-WebSocket-Extensions", s.extensions],
      ["101 Sec-WebSocket-Protocol", s.protocol],
    ]);
    if (record.extensionsNote) pairs(list, [["why no extension", record.extensionsNote]]);
    if (record.knobs && Object.keys(record.knobs).length) {
      pairs(list, [["knobs", JSON.stringify(record.knobs)]]);
    }
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
  let retry: ReturnType<typeof setTimeout> | undefined;
  async function refreshServer(): Promise<void> {
    clearTimeout(retry);
    const tag = field("tag").value;
    const status = $("server-status");
    try {
      const response = await fetch("/info?tag=" + encodeURIComponent(tag), { cache: "no-store" });
      const info: PageInfo = await response.json();
      const records = info.live.concat(info.recent);
      // With several members (threads, isolates, replicas), /info asked the fleet: say who answered.
      const answeredBy = info.fleet && info.fleet.member
        ? ", answered by member " + info.fleet.member.id
        : "";
      status.textContent = info.runtime.name + " " + info.runtime.version + ", Echo " + info.echo.version +
        answeredBy + ": " + records.length + " connection(s) tagged " + JSON.stringify(tag);
      $("server-records").replaceChildren(...records.map(showRecord));
      explainExtensions(info.live[0]);
      // The newest connection with the tag: the open one, else the one that closed last.
      showServerLog(info.live[0] || info.recent[0]);
      if (records.length > 0) misses = 0;
      else if (ws && ws.readyState === 1 && ++misses <= 10) retry = setTimeout(refreshServer, 500);
    } catch (error) {
      status.textContent = "could not read /info: " + String(error);
    }
  }
  // RFC 6455 lets a browser report the agreed extensions as it likes: Firefox gives ws.extensions
  // as "permessage-deflate" alone, by design, where the 101 carried parameters (Bun's does).
  function explainExtensions(record: PageRecord | undefined): void {
    const browser = ws && ws.readyState === 1 ? ws.extensions : null;
    const server = record ? record.response.extensions : null;
    const note = browser === null || server === null || browser === server ? "" : "the browser reports " +
      JSON.stringify(browser) + " while the 101 carried " + JSON.stringify(server) +
      ": browsers may report an extension without its parameters (Firefox reports only " +
      "permessage-deflate, by design); the 101 is what the server sent and applies";
    setText("extensions-note", note || "(they agree)");
  }
  function connect(): void {
    if (ws && ws.readyState < 2) ws.close(1000, "reconnect");
    misses = 0;
    const url = new URL(field("url").value);
    url.searchParams.set("tag", field("tag").value);
    for (const knob of document.querySelectorAll<HTMLInputElement>("input[data-knob]")) {
      const value = knob.value.trim();
      if (value !== "" && knob.dataset.knob !== undefined) url.searchParams.set(knob.dataset.knob, value);
    }
    const protocol = field("protocol").value.trim();
    try {
      ws = protocol ? new WebSocket(url, protocol.split(",").map((p) => p.trim())) : new WebSocket(url);
    } catch (error) {
      setText("browser-state", "cannot connect: " + messageOf(error));
      return;
    }
    ws.binaryType = "arraybuffer";
    const socket = ws;
    socket.onopen = () => {
      showBrowser();
      refreshServer();
    };
    socket.onmessage = (event: MessageEvent<Data>) => {
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
  function parseHex(text: string): Uint8Array<ArrayBuffer> {
    const digits = text.replace(/[\s,]/g, "").replace(/^0x/i, "");
    if (digits.length % 2 || /[^0-9a-f]/i.test(digits)) throw new Error("hex needs pairs of 0-9a-f");
    return Uint8Array.from(digits.match(/../g) || [], (pair) => parseInt(pair, 16));
  }
  function send(data: string | Uint8Array<ArrayBuffer>): void {
    if (!ws || ws.readyState !== 1) {
      setText("send-error", "not connected");
      return;
    }
    setText("send-error", "");
    ws.send(data);
    log("→ sent", typeof data === "string" ? data : data.buffer);
  }

  field("url").value = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/";
  field("tag").value = new URLSearchParams(location.search).get("tag") || randomTag();
  $("connect").onclick = connect;
  $("disconnect").onclick = () => ws && ws.close(1000, "bye");
  $("send-text").onclick = () => send(field("text").value);
  $("send-binary").onclick = () => {
    try {
      send(parseHex(field("hex").value));
    } catch (error) {
      setText("send-error", messageOf(error));
    }
  };
  $("refresh").onclick = refreshServer;
  showBrowser();

  let events: EventSource | null = null;
  function stopEvents(): void {
    if (events) events.close();
    events = null;
  }
  $("sse-start").onclick = () => {
    stopEvents();
    $("sse-log").replaceChildren();
    const url = "/sse?count=" + encodeURIComponent(field("sse-count").value) +
      "&interval_ms=" + encodeURIComponent(field("sse-interval").value);
    const source = new EventSource(url);
    events = source;
    setText("sse-state", "connecting to " + url);
    source.onopen = () => setText("sse-state", "open");
    source.addEventListener("time", (event) => {
      const item = document.createElement("li");
      item.textContent = now() + " id " + event.lastEventId + ": " + event.data;
      $("sse-log").append(item);
    });
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
}
