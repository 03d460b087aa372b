/**
 * Validation of the client's opening handshake (RFC 6455 §4.2.1), done before the runtime is
 * asked to upgrade: Deno and Bun each accept some malformed handshakes, and differently.
 *
 * @module
 */
import { listHasToken } from "./tokens.ts";
import { selectSubprotocol } from "./subprotocol.ts";

/** Base64 of exactly 16 bytes: 22 characters and `==` padding. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Headers that announce a request body (a literal list in the loop would be a new array per handshake). */
const BODY_HEADERS = ["content-length", "transfer-encoding"] as const;

/** True when the request asks to switch to WebSocket (`Upgrade: websocket`, any case). */
export function isWebSocketUpgrade(request: Request): boolean {
  return listHasToken(request.headers.get("upgrade"), "websocket");
}

/** The handshake's headers a connection keeps, exactly as received (`null` when absent). */
export interface RequestHeaders {
  origin: string | null;
  userAgent: string | null;
  /** `""` when absent (a handshake without one is refused before a connection exists). */
  key: string;
  extensions: string | null;
  protocol: string | null;
}

/** A handshake that can be upgraded, with what Echo decided for it. */
export interface AcceptedHandshake {
  ok: true;
  /** The subprotocol the 101 will carry, if any. */
  protocol: string | undefined;
  /** The headers the connection keeps, as read for the checks (each header is read once). */
  request: RequestHeaders;
}

/** Why a handshake was refused, as counted in `/metrics`. */
export type Refusal =
  | "method"
  | "host"
  | "body"
  | "connection"
  | "version"
  | "key"
  | "protocol"
  | "origin"
  | "capacity"
  | "shutting_down"
  | "knob"
  | "knob_status";

/** A handshake that must be refused, with the response that says why. */
export interface RefusedHandshake {
  ok: false;
  reason: Refusal;
  response: Response;
}

/** What the checks need beyond the request. */
export interface HandshakeOptions {
  /** Lower-case origins a browser may connect from; `null` allows any. */
  allowedOrigins: readonly string[] | null;
}

/**
 * Checks a request that carries `Upgrade: websocket`. A refusal's body is one line naming the
 * header at fault; of what the client sent, only the method (an HTTP token) is repeated.
 */
export function checkHandshake(
  request: Request,
  options: HandshakeOptions,
): AcceptedHandshake | RefusedHandshake {
  if (request.method !== "GET") {
    return refuse(405, "method", `method ${request.method} cannot open a WebSocket; use GET`, {
      allow: "GET",
    });
  }
  // Headers are read with `get` only: Deno's server answers `get` one header at a time, but `has`
  // copies every header into the request, which the connection then keeps (docs/benchmarks.md,
  // "Idle memory").
  // HTTP/1.1 requires Host (RFC 9112 §3.2) and so does the handshake (RFC 6455 §4.2.1 item 2);
  // both runtimes upgrade without one.
  if (request.headers.get("host") === null) return refuse(400, "host", "Host header is missing");
  // The handshake is a GET without a body (RFC 6455 §4.1); Bun would upgrade one that has a
  // body framing header and leave the body's bytes to be read as frames.
  for (const name of BODY_HEADERS) {
    if (request.headers.get(name) !== null) {
      return refuse(400, "body", `an opening handshake has no body; remove ${name}`);
    }
  }
  if (!listHasToken(request.headers.get("connection"), "upgrade")) {
    return refuse(400, "connection", 'Connection header must contain the token "upgrade"');
  }
  const version = request.headers.get("sec-websocket-version");
  if (version !== "13") {
    const got = version === null ? "missing" : "unsupported";
    return refuse(426, "version", `Sec-WebSocket-Version is ${got}; this server speaks version 13`, {
      "sec-websocket-version": "13",
    });
  }
  const key = request.headers.get("sec-websocket-key");
  if (key === null) return refuse(400, "key", "Sec-WebSocket-Key header is missing");
  if (!KEY.test(key)) return refuse(400, "key", "Sec-WebSocket-Key must be the base64 encoding of 16 bytes");
  const origin = request.headers.get("origin");
  if (origin !== null && options.allowedOrigins && !options.allowedOrigins.includes(origin.toLowerCase())) {
    return refuse(403, "origin", "Origin is not allowed to open WebSockets here (see ALLOWED_ORIGINS)");
  }
  const protocol = request.headers.get("sec-websocket-protocol");
  let selected: string | undefined;
  try {
    selected = selectSubprotocol(protocol);
  } catch {
    return refuse(400, "protocol", "Sec-WebSocket-Protocol must be a comma list of tokens");
  }
  const userAgent = request.headers.get("user-agent");
  const extensions = request.headers.get("sec-websocket-extensions");
  return { ok: true, protocol: selected, request: { origin, userAgent, key, extensions, protocol } };
}

/** A refusal with a one-line plain-text reason. */
export function refuse(
  status: number,
  reason: Refusal,
  text: string,
  headers: Record<string, string> = {},
): RefusedHandshake {
  return {
    ok: false,
    reason,
    response: new Response(`${text}\n`, {
      status,
      headers: { "content-type": "text/plain; charset=utf-8", ...headers },
    }),
  };
}
