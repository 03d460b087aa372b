/**
 * A `Bearer` JSON Web Token decoded for the HTTP echo: its JOSE header and its claims (RFC 7519 §3,
 * the JWS compact serialisation of RFC 7515 §7.1), shown so that whoever tests an auth proxy sees what
 * reached the backend. Never verified: Echo holds no key, and says so (`verified: false`). A token
 * that cannot be decoded is reported with the reason; it never changes the answer's status.
 *
 * @module
 */

/** What the echo reports for a `Bearer` token. */
export type JwtReport =
  | {
    /** The JOSE header, decoded (`alg`, `typ`, `kid`, …). */
    header: Record<string, unknown>;
    /** The claims, decoded (`sub`, `exp`, …), as sent: nothing is checked, not even `exp`. */
    payload: Record<string, unknown>;
    /** Always `false`: the signature is not checked. */
    verified: false;
  }
  | {
    /** Why the token is not a decodable JWT, in one line. */
    error: string;
  };

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** A base64url part, with or without padding (RFC 7515 §2: without). */
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

type FromBase64 = (text: string, options: { alphabet: "base64url" }) => Uint8Array;

/**
 * The report for an `Authorization` header's value, or `undefined` when it carries no `Bearer`
 * token (no header, another scheme): then the echo has no `jwt` field.
 */
export function decodeJwt(authorization: string | null): JwtReport | undefined {
  if (authorization === null) return undefined;
  const match = /^bearer(?:[ \t]+(.*))?$/is.exec(authorization.trim());
  if (!match) return undefined;
  const token = (match[1] ?? "").trim();
  if (token === "") return { error: "Bearer without a token" };
  if (/[\s,]/.test(token)) {
    return {
      error: 'not a JWT: a space or comma in the token (two Authorization headers arrive joined with ", ")',
    };
  }
  const parts = token.split(".");
  if (parts.length === 5) {
    return { error: "five parts: an encrypted JWT (JWE), which cannot be read without its key" };
  }
  if (parts.length !== 3) {
    return {
      error: `not a JWT: ${parts.length} part${
        parts.length === 1 ? "" : "s"
      }, expected header.payload.signature`,
    };
  }
  const header = decodePart(parts[0], "header");
  if (typeof header === "string") return { error: header };
  const payload = decodePart(parts[1], "payload");
  if (typeof payload === "string") return { error: payload };
  if (!BASE64URL.test(parts[2])) return { error: "signature: not base64url" };
  return { header, payload, verified: false };
}

/** One part decoded to a JSON object, or why not. */
function decodePart(part: string, name: "header" | "payload"): Record<string, unknown> | string {
  if (part === "" || !BASE64URL.test(part)) return `${name}: not base64url`;
  let bytes: Uint8Array;
  try {
    // Uint8Array.fromBase64 (TC39 "Uint8Array to/from base64") is in both runtimes' engines.
    bytes = (Uint8Array as unknown as { fromBase64: FromBase64 }).fromBase64(part, { alphabet: "base64url" });
  } catch {
    return `${name}: not base64url`;
  }
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return `${name}: not UTF-8`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `${name}: not JSON`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `${name}: not a JSON object`;
  }
  return value as Record<string, unknown>;
}
