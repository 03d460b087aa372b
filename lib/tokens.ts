/**
 * Parsing of HTTP comma-separated header lists (RFC 9110 §5.6.1), and which header fields a response
 * may be given by an option or a knob.
 *
 * @module
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True when `value` is an RFC 9110 token. */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/**
 * Headers neither an option nor a knob may set on a response: they frame the message, which the runtime
 * does (RFC 9112 §6, RFC 9110 §7.6.1), and a wrong one would corrupt the connection rather than test a
 * client. Lower case.
 */
export const FRAMING_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "content-length",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Splits a comma list, trimming optional spaces and tabs and dropping empty elements,
 * so `a,b`, `a, b` and `a ,, b` all give `["a", "b"]`.
 */
export function splitList(value: string | null): string[] {
  if (value === null) return [];
  return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

/** True when the comma list contains the lower-case `token`, compared case-insensitively. */
export function listHasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  // A list of the token's length that holds the token is the token alone (the usual header).
  if (value.length === token.length) return equalsToken(value, token);
  return splitList(value).some((item) => equalsToken(item, token));
}

/**
 * ASCII case-insensitive equality with a lower-case token, without the lower-cased copy that
 * `toLowerCase` makes: each copy is garbage left by every handshake. Header values are Latin-1,
 * whose letters beyond ASCII never lower-case to a token's ASCII letters, so this agrees with it.
 */
function equalsToken(value: string, token: string): boolean {
  if (value.length !== token.length) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const lower = code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
    if (lower !== token.charCodeAt(i)) return false;
  }
  return true;
}
