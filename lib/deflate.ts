/**
 * permessage-deflate negotiation (RFC 7692) as Bun's server performs it, so that Echo knows what
 * a 101 carried: neither runtime tells the server which extensions it negotiated. The rules were
 * read off the wire of Bun 1.4.5 for every mode below (`tests/extensions_test.ts` replays them).
 *
 * @module
 */

/** Which permessage-deflate compressor Echo asks Bun for (`DEFLATE`). */
export type DeflateMode = "shared" | "dedicated" | "off";

/** Every accepted `DEFLATE` value; the first is the default. */
export const DEFLATE_MODES: readonly DeflateMode[] = ["shared", "dedicated", "off"];

/** One permessage-deflate offer whose parameters are all known, single and well-valued. */
interface Offer {
  clientNoContextTakeover: boolean;
  serverNoContextTakeover: boolean;
  /** `true` when the parameter came without a value (the client only says it supports it). */
  clientMaxWindowBits?: number | true;
  serverMaxWindowBits?: number;
}

/**
 * The `Sec-WebSocket-Extensions` value Bun answers to `offer` in `mode`, `""` when it answers none.
 * Bun takes the first offer it can honour; an offer with an unknown, repeated or misvalued
 * parameter is declined (RFC 7692 §7.1), never repaired.
 */
export function negotiateDeflate(offer: string | null, mode: DeflateMode): string {
  if (mode === "off" || offer === null) return "";
  for (const element of splitOutsideQuotes(offer, ",")) {
    const parsed = parseOffer(element);
    const response = parsed && respond(parsed, mode);
    if (response) return response;
  }
  return "";
}

/** True when the header offers permessage-deflate at all, valid or not. */
export function offersDeflate(offer: string | null): boolean {
  return offer !== null &&
    splitOutsideQuotes(offer, ",").some((e) => splitOutsideQuotes(e, ";")[0].trim() === "permessage-deflate");
}

// A shared compressor resets its context after every message and always uses the full window;
// a dedicated one keeps a context per connection and can lower its window to what is asked.
function respond(offer: Offer, mode: "shared" | "dedicated"): string | undefined {
  const params = ["permessage-deflate"];
  const shared = mode === "shared";
  if (shared || offer.clientNoContextTakeover) params.push("client_no_context_takeover");
  else if (typeof offer.clientMaxWindowBits === "number" && offer.clientMaxWindowBits < 15) {
    params.push(`client_max_window_bits=${offer.clientMaxWindowBits}`);
  }
  const resetsContext = shared || offer.serverNoContextTakeover;
  const lowered = offer.serverMaxWindowBits !== undefined && offer.serverMaxWindowBits < 15;
  if (resetsContext && lowered) return undefined;
  if (resetsContext) params.push("server_no_context_takeover");
  // Accepting an offered server_max_window_bits means answering it, even 15 (RFC 7692 §7.1.2.1).
  if (offer.serverMaxWindowBits !== undefined) {
    params.push(`server_max_window_bits=${offer.serverMaxWindowBits}`);
  }
  return params.join("; ");
}

/** `name` or `name=value` or `name="value"`. */
const PARAMETER = /^([a-z_]+)(?:=("?)([^"]*)\2)?$/;

function parseOffer(element: string): Offer | undefined {
  const parts = splitOutsideQuotes(element, ";");
  if (parts[0].trim() !== "permessage-deflate") return undefined;
  const offer: Offer = { clientNoContextTakeover: false, serverNoContextTakeover: false };
  // Four parameters are known, so an array is the cheapest set of those seen.
  const seen: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    const raw = parts[i].trim();
    const match = PARAMETER.exec(raw);
    if (!match || seen.includes(match[1])) return undefined;
    const [, key, , value] = match;
    const hasValue = raw.includes("=");
    seen.push(key);
    if (key === "client_no_context_takeover" || key === "server_no_context_takeover") {
      if (hasValue) return undefined;
      offer[key === "client_no_context_takeover" ? "clientNoContextTakeover" : "serverNoContextTakeover"] =
        true;
    } else if (key === "client_max_window_bits") {
      const bits = hasValue ? windowBits(value) : true;
      if (bits === undefined) return undefined;
      offer.clientMaxWindowBits = bits;
    } else if (key === "server_max_window_bits") {
      const bits = hasValue ? windowBits(value) : undefined;
      if (bits === undefined) return undefined;
      offer.serverMaxWindowBits = bits;
    } else return undefined;
  }
  return offer;
}

/** RFC 7692 §7.1.2: a decimal 8 to 15 without leading zeros. */
function windowBits(value: string): number | undefined {
  return /^(?:[89]|1[0-5])$/.test(value) ? Number(value) : undefined;
}

/** Splits at `separator`, ignoring separators inside quoted strings. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  // By UTF-16 unit: the quote and the separators are ASCII, so no surrogate half can match them.
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (char === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** What a runtime does with `Sec-WebSocket-Extensions`, as `/info` reports it. */
export interface ExtensionPolicy {
  /** One line for `/info`: what this server negotiates. */
  summary: string;
  /** The value the 101 carries for `offer`, `""` for no header. */
  negotiate(offer: string | null): string;
  /** Why no offer of permessage-deflate is ever accepted, when that is the case. */
  unavailable?: string;
}

/** Deno's native `WebSocket` answers no extension to any offer. */
export const DENO_EXTENSIONS: ExtensionPolicy = {
  summary: "none: Deno's native WebSocket does not implement permessage-deflate",
  negotiate: () => "",
  unavailable: "Deno's native WebSocket does not implement permessage-deflate, so the offer was declined " +
    "and messages travel uncompressed",
};

/** Bun's negotiation for a `DEFLATE` mode. */
export function bunExtensions(mode: DeflateMode): ExtensionPolicy {
  if (mode === "off") {
    return {
      summary: "none: DEFLATE=off",
      negotiate: () => "",
      unavailable: "this server runs with DEFLATE=off, so permessage-deflate offers are declined",
    };
  }
  // A client sends the same offer on every connection (Chrome's is "permessage-deflate;
  // client_max_window_bits"), so the last answer is kept: one string comparison per handshake.
  let lastOffer: string | null = null;
  let lastAnswer = "";
  return {
    summary: `permessage-deflate with a ${mode} compressor`,
    negotiate(offer) {
      if (offer !== lastOffer) {
        lastAnswer = negotiateDeflate(offer, mode);
        lastOffer = offer;
      }
      return lastAnswer;
    },
  };
}

/** Why an offer of permessage-deflate got no extension; `undefined` when none was offered or it was accepted. */
export function declineReason(
  offer: string | null,
  negotiated: string,
  policy: ExtensionPolicy,
): string | undefined {
  if (negotiated !== "" || !offersDeflate(offer)) return undefined;
  return policy.unavailable ??
    "no permessage-deflate offer could be honoured: an unknown, repeated or out-of-range parameter " +
      "declines an offer (RFC 7692 §7.1), and a shared compressor cannot lower server_max_window_bits";
}
