/**
 * Parsing of HTTP comma-separated header lists (RFC 9110 §5.6.1).
 *
 * @module
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True when `value` is an RFC 9110 token. */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

/**
 * Splits a comma list, trimming optional spaces and tabs and dropping empty elements,
 * so `a,b`, `a, b` and `a ,, b` all give `["a", "b"]`.
 */
export function splitList(value: string | null): string[] {
  if (value === null) return [];
  return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

/** True when the comma list contains `token`, compared case-insensitively. */
export function listHasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  // A list of the token's length that holds the token is the token alone (the usual header).
  if (value.length === token.length) return value.toLowerCase() === token;
  return splitList(value).some((item) => item.toLowerCase() === token);
}
