/**
 * Test knobs: what a client may ask of its own connection in the WebSocket URL's query, e.g.
 * `ws://host/?echo_delay=200&echo_close=1012&echo_after=3`, so that a client's test suite can reach the
 * unhappy paths (slow server, server close, refused handshake, pings, drops) against the same echo.
 * Every knob's name starts with `echo_`, so no application's own query parameter falls into them.
 * Every knob is bounded: one client cannot make Echo spend more than a plain echo would.
 *
 * @module
 */
import { isToken } from "./tokens.ts";
import { refuse, type RefusedHandshake } from "./handshake.ts";

/** A server-initiated close that a client asked for. */
export interface CloseKnob {
  code: number;
  reason: string;
  /** Close right after the Nth echo has been sent (0: as soon as the connection opens). */
  after?: number;
  /** Close this many milliseconds after the connection opened. */
  afterMs?: number;
}

/** What one connection asked for; an absent field means Echo's plain behaviour. */
export interface Knobs {
  /** Each echo is sent this many milliseconds after its message arrived, in order. */
  delayMs?: number;
  close?: CloseKnob;
  /** The handshake is refused with this HTTP status. */
  status?: number;
  /** Echo pings at this interval. */
  pingMs?: number;
  /** Right after the Nth echo the TCP connection is cut without a close frame (0: at open). */
  dropAfter?: number;
  /** Compress every echo (`true`) or none (`false`) when permessage-deflate was negotiated. */
  compress?: boolean;
  /** The subprotocol the 101 names instead of Echo's choice; `""` for none. */
  protocol?: string;
}

/** A plain echo's knobs, shared by every connection that asked for none. */
export const NO_KNOBS: Knobs = Object.freeze({});

/**
 * What every knob's query parameter starts with: a namespace no application's own parameter falls into
 * by chance (`?status=active` is the application's; `?echo_status=503` is Echo's). HTTP knobs share it.
 */
export const KNOB_PREFIX = "echo_";

/** The knobs of a WebSocket URL, each read as `echo_` + its name (`echo_delay`); `tag` is not a knob. */
export const KNOB_PARAMETERS = [
  "delay",
  "close",
  "after",
  "after_ms",
  "reason",
  "status",
  "ping_ms",
  "drop_after",
  "compress",
  "protocol",
] as const;

/** A knob's name, without the prefix. */
export type KnobParameter = typeof KNOB_PARAMETERS[number];

/** A knob's query parameter: `delay` → `echo_delay`. */
export function knobParameter(knob: string): string {
  return KNOB_PREFIX + knob;
}

/**
 * The knob an unknown parameter inside the namespace was most likely meant as (one edit, a swap of
 * neighbours, or case and `-` away): `echo_dealy`, `Echo-Delay` → `echo_delay`. A name outside the
 * namespace is never a near miss: it is the client's own.
 */
export function nearMissOf(name: string, knobs: readonly string[]): string | undefined {
  const normal = name.toLowerCase().replaceAll("-", "_");
  if (!normal.startsWith(KNOB_PREFIX)) return undefined;
  return knobs.map(knobParameter).find((knob) => withinOneEdit(normal, knob));
}

/** The bounds of the numeric knobs, inclusive. */
export const KNOB_LIMITS = {
  delay: [0, 10_000],
  after: [0, 1_000_000],
  after_ms: [0, 600_000],
  status: [400, 599],
  ping_ms: [100, 600_000],
  drop_after: [0, 1_000_000],
} as const satisfies Partial<Record<KnobParameter, readonly [number, number]>>;

/** The longest close reason a close frame can carry (125 bytes of payload minus the code). */
export const MAX_REASON_BYTES = 123;

/**
 * Close codes a server may send: RFC 6455 §7.4.1 and the IANA registry, without those no
 * endpoint may send (1004 reserved, 1005, 1006, 1015), the client-only 1010, and the
 * unassigned 1016-2999; plus 3000-4999 (registered libraries and private use).
 */
export function isSendableCloseCode(code: number): boolean {
  return [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 1012, 1013, 1014].includes(code) ||
    (code >= 3000 && code <= 4999);
}

/** Why a URL's knobs cannot be honoured: the parameter at fault and one line saying why. */
export interface KnobError {
  /** 400: invalid; 403: knobs are disabled here; 501: this runtime cannot do it. */
  status: 400 | 403 | 501;
  /** The query parameter as given (`echo_delay`, or a near miss as the client spelt it). */
  parameter: string;
  message: string;
}

/** What {@link parseKnobs} needs beyond the URL. */
export interface KnobOptions {
  /** `false` under `KNOBS=off`: knob parameters are refused, other parameters ignored. */
  enabled: boolean;
  /** Knobs this runtime cannot offer, each with the reason. */
  unsupported?: Readonly<Partial<Record<KnobParameter, string>>>;
}

/** The knob a query parameter names exactly (`echo_delay` → `delay`), if any. */
function knobOf(name: string): KnobParameter | undefined {
  if (!name.startsWith(KNOB_PREFIX)) return undefined;
  const knob = name.slice(KNOB_PREFIX.length);
  return (KNOB_PARAMETERS as readonly string[]).includes(knob) ? knob as KnobParameter : undefined;
}

/**
 * Reads the knobs of a WebSocket URL. Other parameters are the client's own business (a URL with
 * any query must still upgrade, RFC 6455 §3) and are ignored, whatever their names, except a near
 * miss inside the namespace (`echo_dealy`, `echo-ping-ms`, `Echo_Delay`): that refuses the handshake
 * instead of silently giving a plain echo.
 */
export function parseKnobs(query: URLSearchParams | null, options: KnobOptions): Knobs | KnobError {
  if (query === null) return NO_KNOBS;
  const params = new Map<KnobParameter, string>();
  for (const [name, value] of query) {
    const knob = knobOf(name);
    if (knob === undefined) {
      const meant = options.enabled ? nearMissOf(name, KNOB_PARAMETERS) : undefined;
      if (meant === undefined) continue;
      return {
        status: 400,
        parameter: name,
        message: `not a knob; did you mean ${meant}? (knobs: ${
          KNOB_PARAMETERS.map(knobParameter).join(", ")
        })`,
      };
    }
    if (!options.enabled) {
      return { status: 403, parameter: name, message: "test knobs are disabled on this server (KNOBS=off)" };
    }
    if (params.has(knob)) return fail(knob, "given more than once");
    const why = options.unsupported?.[knob];
    if (why !== undefined) return { status: 501, parameter: name, message: why };
    params.set(knob, value);
  }
  return read(params);
}

function read(params: Map<KnobParameter, string>): Knobs | KnobError {
  const knobs: Knobs = {};
  const numbers = new Map<keyof typeof KNOB_LIMITS, number>();
  for (
    const [name, [min, max]] of Object.entries(KNOB_LIMITS) as Array<
      [keyof typeof KNOB_LIMITS, [number, number]]
    >
  ) {
    const raw = params.get(name);
    if (raw === undefined) continue;
    if (!/^\d{1,7}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      return fail(name, `expected a whole number from ${min} to ${max}`);
    }
    numbers.set(name, Number(raw));
  }
  knobs.delayMs = numbers.get("delay");
  knobs.status = numbers.get("status");
  knobs.pingMs = numbers.get("ping_ms");
  knobs.dropAfter = numbers.get("drop_after");

  const close = params.get("close");
  if (close === undefined) {
    const stray = (["after", "after_ms", "reason"] as const).find((name) => params.has(name));
    if (stray) return fail(stray, `needs ${knobParameter("close")}=CODE`);
  } else {
    const code = /^\d{4}$/.test(close) ? Number(close) : NaN;
    if (!isSendableCloseCode(code)) {
      return fail(
        "close",
        "expected a close code a server may send: 1000-1003, 1007-1009, 1011-1014 or 3000-4999",
      );
    }
    const reason = params.get("reason") ?? "";
    if (new TextEncoder().encode(reason).length > MAX_REASON_BYTES) {
      return fail("reason", `longer than ${MAX_REASON_BYTES} bytes of UTF-8`);
    }
    const after = numbers.get("after");
    const afterMs = numbers.get("after_ms");
    if (after !== undefined && afterMs !== undefined) {
      return fail("after_ms", `give ${knobParameter("after")} or ${knobParameter("after_ms")}, not both`);
    }
    knobs.close = { code, reason, ...(afterMs === undefined ? { after: after ?? 0 } : { afterMs }) };
  }

  const compress = params.get("compress");
  if (compress !== undefined) {
    if (compress !== "0" && compress !== "1") return fail("compress", "expected 0 or 1");
    knobs.compress = compress === "1";
  }
  const protocol = params.get("protocol");
  if (protocol !== undefined) {
    if (protocol !== "none" && (!isToken(protocol) || protocol.length > 64)) {
      return fail("protocol", "expected none or a subprotocol name (an HTTP token of up to 64 characters)");
    }
    knobs.protocol = protocol === "none" ? "" : protocol;
  }
  for (const key of Object.keys(knobs) as Array<keyof Knobs>) {
    if (knobs[key] === undefined) delete knobs[key];
  }
  return knobs;
}

function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const swapped = a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  return swapped || a.slice(i + 1) === b.slice(i + 1) || a.slice(i) === b.slice(i + 1) ||
    a.slice(i + 1) === b.slice(i);
}

/** A knob's value refused: 400 naming its query parameter. */
function fail(knob: KnobParameter, message: string): KnobError {
  return { status: 400, parameter: knobParameter(knob), message };
}

/** True when `result` is an error rather than knobs. */
export function isKnobError(result: Knobs | KnobError): result is KnobError {
  return "message" in result;
}

/**
 * The knobs of an upgrade request, or the refusal it gets: an invalid knob (naming the
 * parameter, which is an HTTP-safe name only when it is a knob), or the status it asked for.
 */
export function checkKnobs(
  query: URLSearchParams | null,
  options: KnobOptions,
): { ok: true; knobs: Knobs } | RefusedHandshake {
  const result = parseKnobs(query, options);
  if (isKnobError(result)) {
    const name = knobOf(result.parameter) ? result.parameter : JSON.stringify(result.parameter.slice(0, 40));
    return refuse(result.status, "knob", `query parameter ${name}: ${result.message}`);
  }
  if (result.status !== undefined) {
    return refuse(
      result.status,
      "knob_status",
      `refused with ${result.status}, as asked by ${knobParameter("status")}= (a test knob)`,
    );
  }
  return result === NO_KNOBS ? NONE_ASKED : { ok: true, knobs: result };
}

/** The answer for a URL without knobs, shared: a new one per plain upgrade would be garbage. */
const NONE_ASKED = Object.freeze({ ok: true, knobs: NO_KNOBS } as const);
