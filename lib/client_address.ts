/**
 * The client's address behind a reverse proxy (`TRUST_PROXY`): read from the one forwarding
 * header the proxy is known to write, counting hops from the right, because everything left of
 * what the trusted proxies appended was written by the client and can say anything.
 *
 * @module
 */

/** The forwarding headers Echo can trust. */
export const PROXY_HEADERS = ["x-forwarded-for", "forwarded"] as const;
/** A forwarding header Echo can trust. */
export type ProxyHeader = typeof PROXY_HEADERS[number];

/** Which header the proxies in front of Echo append to, and how many of them there are. */
export interface TrustProxy {
  header: ProxyHeader;
  /** Trusted proxies in front of Echo, each appending one address (nginx alone: 1). */
  hops: number;
}

/**
 * Parses `TRUST_PROXY`: `off`, or a header name with an optional hop count,
 * `x-forwarded-for`, `forwarded`, `x-forwarded-for:2`. Throws an Error saying what was expected.
 */
export function parseTrustProxy(raw: string): TrustProxy | null {
  const value = raw.trim().toLowerCase();
  if (value === "off") return null;
  const match = /^([a-z-]+)(?::(\d{1,2}))?$/.exec(value);
  const header = PROXY_HEADERS.find((h) => h === match?.[1]);
  const hops = Number(match?.[2] ?? 1);
  if (!header || hops < 1) {
    throw new Error("expected off, x-forwarded-for or forwarded, optionally with :HOPS (1 to 99)");
  }
  return { header, hops };
}

/**
 * The address to record for a client: the socket's address when no proxy is trusted (forwarding
 * headers are then ignored), otherwise the address the outermost trusted proxy saw, which is the
 * `hops`-th entry from the right of the trusted header. Falls back to the socket's address when the
 * header is missing or that entry is not an address (`unknown`, an obfuscated `_name`).
 */
export function clientAddress(headers: Headers, socketAddress: string, trust: TrustProxy | null): string {
  if (trust === null) return socketAddress;
  const value = headers.get(trust.header);
  if (value === null) return socketAddress;
  const entries = trust.header === "forwarded" ? forwardedFor(value) : value.split(",").map((s) => s.trim());
  // Fewer entries than hops: every entry was appended by a trusted proxy, so the leftmost one
  // is the client as the first proxy saw it.
  const entry = entries[Math.max(0, entries.length - trust.hops)];
  return entry === undefined ? socketAddress : (address(entry) ?? socketAddress);
}

/** The `for=` value of each element of an RFC 7239 `Forwarded` header, in order. */
function forwardedFor(value: string): string[] {
  // Quoted strings may hold commas and semicolons (`for="[::1]:80"`), so split outside quotes.
  const elements = value.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
  return elements.map((element) => {
    const pairs = element.match(/(?:[^;"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
    const pair = pairs.map((p) => p.trim()).find((p) => /^for=/i.test(p));
    return pair === undefined ? "" : unquote(pair.slice(4).trim());
  });
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2
    ? value.slice(1, -1).replace(/\\(.)/g, "$1")
    : value;
}

/** An IPv4 or IPv6 address without port or brackets, or `undefined` for anything else. */
function address(entry: string): string | undefined {
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d+)?$/i.exec(entry);
  if (bracketed) return bracketed[1].toLowerCase();
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(entry);
  if (v4) return v4[1].split(".").every((octet) => Number(octet) <= 255) ? v4[1] : undefined;
  // A bare IPv6 address (X-Forwarded-For writes them unbracketed): at least two colons.
  if (/^[0-9a-f:.]+$/i.test(entry) && entry.split(":").length > 2) return entry.toLowerCase();
  return undefined;
}
