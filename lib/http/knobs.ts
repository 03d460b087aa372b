/**
 * Test knobs of the HTTP echo: what one request may ask of its own answer, as query parameters in the
 * knobs' namespace (`?echo_status=418&echo_delay=200`) or as `X-Echo-…` request headers
 * (`X-Echo-Status: 418`) for clients that cannot change the URL they test. Any other parameter or
 * header is the application's own and is echoed, never read. `status` and `delay` keep the WebSocket
 * knobs' names; `delay` keeps their bounds too (lib/knobs.ts). Every knob is bounded: no request makes
 * Echo spend more than a plain echo of the largest body would.
 *
 * @module
 */
import { KNOB_LIMITS, knobParameter, nearMissOf } from "../knobs.ts";
import { FRAMING_HEADERS, isToken } from "../tokens.ts";

/** What one request asked for; an absent field means the plain echo. */
export interface HttpKnobs {
  /** The answer's status instead of 200. */
  status?: number;
  /** Milliseconds to wait before answering, after the body was read. */
  delayMs?: number;
  /** Headers of the answer, in the order given: the first of a name replaces Echo's, a repeat adds a value. */
  headers?: Array<[string, string]>;
  /** The answer's body is this many bytes of filler instead of the echo. */
  bodyBytes?: number;
  /**
   * The answer's body is exactly these bytes instead of the echo (`body`, `body_base64`), with this
   * `Content-Type` unless a `header` knob names one.
   */
  body?: { bytes: Uint8Array<ArrayBuffer>; contentType: string };
}

/**
 * The knobs, each read as the query parameter `echo_<name>` (`echo_body_bytes`) or the header
 * `X-Echo-<Name>` (`X-Echo-Body-Bytes`).
 */
export const HTTP_KNOB_PARAMETERS = [
  "status",
  "delay",
  "header",
  "body_bytes",
  "body",
  "body_base64",
] as const;

/** The knobs that choose the answer's body; at most one per request. */
const BODY_KNOBS = ["body", "body_base64", "body_bytes"] as const;

/** The `Content-Type` of a `body` knob's answer unless a `header` knob names one. */
export const BODY_TEXT_TYPE = "text/plain; charset=utf-8";
/** The `Content-Type` of a `body_base64` knob's answer unless a `header` knob names one. */
export const BODY_BYTES_TYPE = "application/octet-stream";

type HttpKnob = typeof HTTP_KNOB_PARAMETERS[number];

/**
 * Status bounds: any final status a fetch-style `Response` can carry (RFC 9110 §15; a `Response`
 * cannot be 1xx). Wider than the WebSocket knob's 400-599, which refuses a handshake and so must
 * be an error; here the status is the answer itself, and 201, 302 or 503 are as useful.
 */
export const HTTP_STATUS_LIMITS = [200, 599] as const;

/** How many response headers one request may ask for. */
export const MAX_KNOB_HEADERS = 32;
/** How long a knob header's value may be, in characters. */
export const MAX_KNOB_HEADER_VALUE = 4096;

/** Why a request's knobs cannot be honoured; `message` is one line naming the knob. */
export interface HttpKnobError {
  /** 400: invalid; 403: knobs are disabled here (`KNOBS=off`). */
  status: 400 | 403;
  message: string;
}

/** What {@link parseHttpKnobs} needs beyond the request. */
export interface HttpKnobOptions {
  /** `false` under `KNOBS=off`: any knob is refused with 403. */
  enabled: boolean;
  /** The largest `body_bytes`, `body` or `body_base64` (MAX_MESSAGE_BYTES: no bigger than the largest body echoed). */
  maxBodyBytes: number;
}

/** `body_bytes` → `x-echo-body-bytes`. */
function headerName(knob: HttpKnob): string {
  return `x-echo-${knob.replaceAll("_", "-")}`;
}

/** True when `result` is an error rather than knobs. */
export function isHttpKnobError(result: HttpKnobs | HttpKnobError): result is HttpKnobError {
  return "message" in result;
}

/** Reads the knobs of an echo request from its URL's query and its `X-Echo-…` headers. */
export function parseHttpKnobs(
  query: URLSearchParams,
  headers: Headers,
  options: HttpKnobOptions,
): HttpKnobs | HttpKnobError {
  if (options.enabled) {
    for (const name of query.keys()) {
      if ((HTTP_KNOB_PARAMETERS as readonly string[]).some((knob) => name === knobParameter(knob))) continue;
      const meant = nearMissOf(name, HTTP_KNOB_PARAMETERS);
      if (meant !== undefined) {
        const known = HTTP_KNOB_PARAMETERS.map(knobParameter).join(", ");
        return fail(
          `query parameter ${JSON.stringify(name.slice(0, 40))}`,
          `not a knob; did you mean ${meant}? (knobs: ${known})`,
        );
      }
    }
  }
  const given = new Map<HttpKnob, Array<[source: string, value: string]>>();
  for (const knob of HTTP_KNOB_PARAMETERS) {
    const parameter = knobParameter(knob);
    const values: Array<[string, string]> = query.getAll(parameter).map((
      v,
    ) => [`query parameter ${parameter}`, v]);
    const header = headers.get(headerName(knob));
    if (header !== null) {
      // Both runtimes join repeated request headers with ", " (docs/http.md); for X-Echo-Header each
      // element starts with a header name and a colon, which is where it is split again.
      const parts = knob === "header" ? header.split(/,\s*(?=[!#$%&'*+\-.^_`|~0-9A-Za-z]+:)/) : [header];
      for (const part of parts) values.push([`header X-Echo-${title(knob)}`, part]);
    }
    if (values.length === 0) continue;
    if (!options.enabled) {
      return { status: 403, message: `${values[0][0]}: test knobs are disabled on this server (KNOBS=off)` };
    }
    if (knob !== "header" && values.length > 1) {
      return fail(values[1][0], `${knob} given more than once (as ${parameter} or X-Echo-${title(knob)})`);
    }
    given.set(knob, values);
  }
  const bodies = BODY_KNOBS.filter((knob) => given.has(knob));
  if (bodies.length > 1) {
    const [first, second] = bodies.map((knob) => given.get(knob)![0][0]);
    return fail(second, `give one of ${BODY_KNOBS.map(knobParameter).join(", ")}, not two (${first} too)`);
  }
  const knobs: HttpKnobs = {};
  for (const knob of ["body", "body_base64"] as const) {
    const asked = given.get(knob);
    if (!asked) continue;
    const [source, raw] = asked[0];
    const bytes = knob === "body" ? textBytes(raw, source) : base64Bytes(raw, source);
    if (bytes === undefined) {
      return fail(source, "expected base64 (or base64url); in a query, write + as %2B");
    }
    if (bytes.byteLength > options.maxBodyBytes) {
      return fail(source, `${bytes.byteLength} bytes, over MAX_MESSAGE_BYTES (${options.maxBodyBytes})`);
    }
    knobs.body = { bytes, contentType: knob === "body" ? BODY_TEXT_TYPE : BODY_BYTES_TYPE };
  }
  const number = (knob: "status" | "delay" | "body_bytes", min: number, max: number) => {
    const [source, raw] = given.get(knob)![0];
    if (!/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      return fail(source, `expected a whole number from ${min} to ${max}`);
    }
    return Number(raw);
  };
  for (
    const [knob, [min, max]] of [
      ["status", HTTP_STATUS_LIMITS],
      ["delay", KNOB_LIMITS.delay],
      ["body_bytes", [0, options.maxBodyBytes]],
    ] as const
  ) {
    if (!given.has(knob)) continue;
    const value = number(knob, min, max);
    if (typeof value !== "number") return value;
    if (knob === "status") knobs.status = value;
    else if (knob === "delay") knobs.delayMs = value;
    else knobs.bodyBytes = value;
  }
  const asked = given.get("header");
  if (asked) {
    if (asked.length > MAX_KNOB_HEADERS) return fail(asked[0][0], `more than ${MAX_KNOB_HEADERS} headers`);
    knobs.headers = [];
    for (const [source, raw] of asked) {
      const colon = raw.indexOf(":");
      const name = raw.slice(0, Math.max(colon, 0)).trim();
      const value = raw.slice(colon + 1).trim();
      if (colon < 0 || !isToken(name)) return fail(source, "expected Name:value, the name an HTTP token");
      if (FRAMING_HEADERS.has(name.toLowerCase())) {
        return fail(source, `${name} frames the message and is set by the server`);
      }
      // Field values exclude CR, LF and NUL (RFC 9110 §5.5); a Response would throw on them.
      // deno-lint-ignore no-control-regex
      if (value.length > MAX_KNOB_HEADER_VALUE || /[\x00\r\n]|[^\x00-\xff]/.test(value)) {
        return fail(
          source,
          `value of ${name} must be Latin-1 text without CR, LF or NUL, at most 4096 characters`,
        );
      }
      knobs.headers.push([name, value]);
    }
  }
  return knobs;
}

/**
 * A `body` knob's bytes: a query parameter's decoded text as UTF-8; a header's value byte for byte
 * (both runtimes hand a header's bytes over as Latin-1 characters, so UTF-8 sent in it comes back as sent).
 */
function textBytes(raw: string, source: string): Uint8Array<ArrayBuffer> {
  if (!source.startsWith("header")) return new TextEncoder().encode(raw);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

type FromBase64 = (text: string, options: { alphabet: "base64" | "base64url" }) => Uint8Array<ArrayBuffer>;

/**
 * A `body_base64` knob's bytes, from base64 or base64url, padded or not; `undefined` when it is neither.
 * In a query an unencoded `+` arrives as a space (form decoding), which is read back as `+`.
 */
function base64Bytes(raw: string, source: string): Uint8Array<ArrayBuffer> | undefined {
  const text = source.startsWith("header") ? raw : raw.replaceAll(" ", "+");
  const url = /[-_]/.test(text);
  if (!(url ? /^[A-Za-z0-9_-]*={0,2}$/ : /^[A-Za-z0-9+/]*={0,2}$/).test(text)) return undefined;
  try {
    // Uint8Array.fromBase64 (TC39 "Uint8Array to/from base64") is in both runtimes' engines.
    const decode = (Uint8Array as unknown as { fromBase64: FromBase64 }).fromBase64;
    return decode(text, { alphabet: url ? "base64url" : "base64" });
  } catch {
    return undefined;
  }
}

/** `body_bytes` → `Body-Bytes`, as the header is written in messages. */
function title(knob: HttpKnob): string {
  return knob.split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join("-");
}

function fail(source: string, message: string): HttpKnobError {
  return { status: 400, message: `${source}: ${message}` };
}
