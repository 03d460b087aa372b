/**
 * The opening handshake (RFC 6455 §4.1, §4.2.1, §4.2.2): what is upgraded, with which
 * response, and what is refused with which status.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { handshakeHeaders, OP, RawClient, SEED_HEADERS } from "../../support/raw.ts";
import { type CaseSpec, echoed, group, text } from "../case.ts";
import type { Trace } from "../wire.ts";
import { Wire } from "../wire.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

type Headers = ReadonlyArray<readonly [string, string]>;
interface Request {
  headers: Headers;
  method?: string;
  path?: string;
  version?: string;
}

/**
 * The trace of one handshake: for a 101, the response checks and an echo over the connection;
 * for a refusal, the status and whether the one-line body names `names`.
 */
async function handshake(port: number, request: Request, names?: string): Promise<Trace> {
  const client = await RawClient.open(port, request.headers, request);
  const { status, headers, body } = client.response;
  if (status !== 101) {
    client.destroy();
    // An empty body is the runtime's own refusal (Bun answers a request without Host itself).
    const named = names === undefined || body === "" || body.includes(names)
      ? ""
      : ` without naming ${names}: ${body.trim()}`;
    return [`http ${status}${named}`];
  }
  const key = request.headers.find(([name]) => name.toLowerCase() === "sec-websocket-key")?.[1] ?? "";
  const accept = createHash("sha1").update(key.trim() + GUID).digest("base64");
  const trace: Trace = ["http 101"];
  if (headers.get("sec-websocket-accept") !== accept) trace.push("wrong Sec-WebSocket-Accept");
  if (headers.get("upgrade")?.toLowerCase() !== "websocket") trace.push("no Upgrade: websocket");
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(headers.get("connection") ?? "")) trace.push("no Connection: Upgrade");
  trace.push(`protocol ${headers.get("sec-websocket-protocol") ?? "(none)"}`);
  trace.push(`extensions ${headers.get("sec-websocket-extensions")?.replace(/;.*/, "") ?? "(none)"}`);
  const { wire, failure } = Wire.over(client);
  if (!wire) return [...trace, failure!];
  wire.send({ opcode: OP.TEXT, payload: "handshake ok" });
  return [...trace, ...await wire.finish({ expected: 1, serverCloses: false, timeoutMs: 5_000 })];
}

function upgrade(protocol = "(none)", extensions = "(none)"): Trace {
  return ["http 101", `protocol ${protocol}`, `extensions ${extensions}`, ...echoed(text("handshake ok"))];
}

function accepted(title: string, rfc: string, request: Request, expect = upgrade()): CaseSpec {
  return { title, rfc, expect: [expect], variants: [], run: (port) => handshake(port, request) };
}

function refused(title: string, rfc: string, request: Request, status: number, names: string): CaseSpec {
  return {
    title: `${title} → ${status} naming ${names}`,
    rfc,
    expect: [[`http ${status}`]],
    variants: [],
    run: (port) => handshake(port, request, names),
  };
}

/** A request that must get a 4xx or 5xx answer; which one is the runtime's HTTP layer's or Echo's choice. */
function notUpgraded(title: string, rfc: string, request: Request): CaseSpec {
  return {
    title,
    rfc,
    expect: [["refused"]],
    variants: [],
    async run(port) {
      const trace = await handshake(port, request);
      return /^http [45]\d\d/.test(trace[0]) ? ["refused"] : trace;
    },
  };
}

const valid = (extra: Record<string, string | null> = {}): Headers => handshakeHeaders(extra);
const SECTION = "RFC 6455 §4.2.1";

const specs: CaseSpec[] = [
  accepted("a minimal valid request is upgraded with the right Sec-WebSocket-Accept", "RFC 6455 §4.2.2", {
    headers: valid(),
  }),
  {
    title: "the Chrome request from the seed notes (permessage-deflate accepted or declined)",
    rfc: "RFC 6455 §4.2.2, RFC 7692 §5",
    expect: [upgrade("(none)", "permessage-deflate"), upgrade()],
    variants: [],
    run: (port) => handshake(port, { headers: [["Host", "localhost:8181"], ...SEED_HEADERS] }),
  },
  accepted("header names in lower case", "RFC 6455 §4.2.1 (header names are case-insensitive)", {
    headers: valid().map(([k, v]) => [k.toLowerCase(), v] as const),
  }),
  accepted("header names in upper case", "RFC 6455 §4.2.1", {
    headers: valid().map(([k, v]) => [k.toUpperCase(), v] as const),
  }),
  accepted("Upgrade: WebSocket (mixed case value)", `${SECTION} item 3 (case-insensitive)`, {
    headers: valid({ Upgrade: "WebSocket" }),
  }),
  accepted("Connection: keep-alive, Upgrade (a token list)", `${SECTION} item 4`, {
    headers: valid({ Connection: "keep-alive, Upgrade" }),
  }),
  accepted("Connection: upgrade (lower case)", `${SECTION} item 4`, {
    headers: valid({ Connection: "upgrade" }),
  }),
  accepted("a request path with a query string", "RFC 6455 §3, §4.2.1 item 1", {
    headers: valid(),
    path: "/?client=conformance&n=1",
  }),
  accepted("a request path other than /", "RFC 6455 §3", { headers: valid(), path: "/some/resource" }),
  accepted(
    "an Origin header from another site",
    "RFC 6455 §4.2.1 item 7, §10.2 (an echo serves any origin)",
    {
      headers: valid({ Origin: "https://example.com" }),
    },
  ),
  accepted("a key of 16 zero bytes", `${SECTION} item 5`, {
    headers: valid({ "Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAAAA==" }),
  }),
  accepted("a key of 16 0xff bytes", `${SECTION} item 5`, {
    headers: valid({ "Sec-WebSocket-Key": "/////////////////////w==" }),
  }),
  accepted("one subprotocol offered is selected", "RFC 6455 §4.2.2 item 5.4", {
    headers: valid({ "Sec-WebSocket-Protocol": "chat" }),
  }, upgrade("chat")),
  accepted("the first of several subprotocols is selected", "RFC 6455 §4.2.2 item 5.4", {
    headers: valid({ "Sec-WebSocket-Protocol": "chat, superchat" }),
  }, upgrade("chat")),
  accepted("a subprotocol list without spaces", "RFC 6455 §4.1, RFC 9110 §5.6.1", {
    headers: valid({ "Sec-WebSocket-Protocol": "v2.echo,v1.echo" }),
  }, upgrade("v2.echo")),
  accepted("subprotocols offered in two header lines", "RFC 6455 §4.1 (the header may repeat)", {
    headers: [...valid(), ["Sec-WebSocket-Protocol", "first"], ["Sec-WebSocket-Protocol", "second"]],
  }, upgrade("first")),
  accepted("an unknown extension offered is not accepted", "RFC 6455 §9.1, §4.2.2 item 5.5", {
    headers: valid({ "Sec-WebSocket-Extensions": "x-unknown-extension; foo=bar" }),
  }),
  refused(
    "POST with Upgrade: websocket",
    `${SECTION} item 1 (the method MUST be GET)`,
    {
      headers: valid(),
      method: "POST",
    },
    405,
    "GET",
  ),
  refused(
    "PUT with Upgrade: websocket",
    `${SECTION} item 1`,
    { headers: valid(), method: "PUT" },
    405,
    "GET",
  ),
  notUpgraded(
    "an HTTP/1.0 request is not upgraded",
    `${SECTION} item 1 (HTTP/1.1 or higher); RFC 9110 §7.8`,
    {
      headers: valid(),
      version: "HTTP/1.0",
    },
  ),
  refused("no Host header", `${SECTION} item 2`, { headers: valid({ Host: null }) }, 400, "Host"),
  refused(
    "no Connection header",
    `${SECTION} item 4`,
    { headers: valid({ Connection: null }) },
    400,
    "Connection",
  ),
  refused(
    "Connection: keep-alive",
    `${SECTION} item 4`,
    { headers: valid({ Connection: "keep-alive" }) },
    400,
    "Connection",
  ),
  refused(
    "Connection: upgrades (not the token)",
    `${SECTION} item 4`,
    {
      headers: valid({ Connection: "upgrades" }),
    },
    400,
    "Connection",
  ),
  refused(
    "no Sec-WebSocket-Key",
    `${SECTION} item 5`,
    {
      headers: valid({ "Sec-WebSocket-Key": null }),
    },
    400,
    "Sec-WebSocket-Key",
  ),
  refused(
    "a key of 8 bytes",
    `${SECTION} item 5 (16 bytes, base64)`,
    {
      headers: valid({ "Sec-WebSocket-Key": "AAAAAAAAAAA=" }),
    },
    400,
    "Sec-WebSocket-Key",
  ),
  refused(
    "a key of 20 bytes",
    `${SECTION} item 5`,
    {
      headers: valid({ "Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAAAAAAAAA=" }),
    },
    400,
    "Sec-WebSocket-Key",
  ),
  refused(
    "a key that is not base64",
    `${SECTION} item 5`,
    {
      headers: valid({ "Sec-WebSocket-Key": "!!!!!!!!!!!!!!!!!!!!!!==" }),
    },
    400,
    "Sec-WebSocket-Key",
  ),
  refused(
    "a key without padding",
    `${SECTION} item 5`,
    {
      headers: valid({ "Sec-WebSocket-Key": "1CrKNZMpvvE2RDF4Aa866w" }),
    },
    400,
    "Sec-WebSocket-Key",
  ),
  refused(
    "two Sec-WebSocket-Key headers",
    `${SECTION} item 5 (exactly one key)`,
    {
      headers: [...valid(), ["Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA=="]],
    },
    400,
    "Sec-WebSocket-Key",
  ),
  refused(
    "no Sec-WebSocket-Version",
    `${SECTION} item 6; §4.4`,
    {
      headers: valid({ "Sec-WebSocket-Version": null }),
    },
    426,
    "Sec-WebSocket-Version",
  ),
  refused(
    "Sec-WebSocket-Version: 8",
    "RFC 6455 §4.4 (answer with the versions spoken)",
    {
      headers: valid({ "Sec-WebSocket-Version": "8" }),
    },
    426,
    "Sec-WebSocket-Version",
  ),
  refused(
    "Sec-WebSocket-Version: 13, 8",
    "RFC 6455 §4.4",
    {
      headers: valid({ "Sec-WebSocket-Version": "13, 8" }),
    },
    426,
    "Sec-WebSocket-Version",
  ),
  refused(
    "a subprotocol list that is not tokens",
    "RFC 6455 §4.1 (tokens), §4.2.1 item 8",
    {
      headers: valid({ "Sec-WebSocket-Protocol": "chat, sup er" }),
    },
    400,
    "Sec-WebSocket-Protocol",
  ),
  notUpgraded("a GET upgrade request with Content-Length is not upgraded", "RFC 6455 §4.1 (a bodiless GET)", {
    headers: [...valid(), ["Content-Length", "5"]],
  }),
  notUpgraded("a GET upgrade request with Content-Length: 0 is not upgraded", "RFC 6455 §4.1", {
    headers: [...valid(), ["Content-Length", "0"]],
  }),
  notUpgraded("a GET upgrade request with Transfer-Encoding is not upgraded", "RFC 6455 §4.1", {
    headers: [...valid(), ["Transfer-Encoding", "chunked"]],
  }),
  {
    title: "the server still upgrades after many refusals",
    rfc: "RFC 6455 §4.2.1",
    expect: [upgrade()],
    variants: [],
    async run(port) {
      for (let i = 0; i < 20; i++) await handshake(port, { headers: valid({ "Sec-WebSocket-Key": "bad" }) });
      return handshake(port, { headers: valid() });
    },
  },
];

/** The handshake group. */
export const HANDSHAKE = group("handshake", specs);
