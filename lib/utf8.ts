/**
 * UTF-8 size of a string without encoding it: the counters run on every message.
 *
 * @module
 */

// A regular expression finds the first non-ASCII unit faster than a charCodeAt loop on both
// engines from small messages up, and most text messages are pure ASCII.
// (The negated class is faster on Bun than [\u0080-\uffff]; NUL to DEL is intended.)
// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/** Number of bytes `text` takes in UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  const first = text.search(NON_ASCII);
  if (first < 0) return text.length;
  let bytes = text.length;
  for (let i = first; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // the pair is 4 bytes; its two UTF-16 units already counted 2
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** Byte size of a WebSocket message as it travels: UTF-8 for text, length for binary. */
export function messageSize(message: string | Uint8Array): number {
  return typeof message === "string" ? utf8Length(message) : message.byteLength;
}

/**
 * True when the message takes more than `limit` bytes. A string's UTF-8 size lies between its length
 * and three times it, so only a string between `limit / 3` and `limit` units long is scanned.
 */
export function exceedsBytes(message: string | Uint8Array, limit: number): boolean {
  if (typeof message !== "string") return message.byteLength > limit;
  if (message.length > limit) return true;
  if (message.length * 3 <= limit) return false;
  return utf8Length(message) > limit;
}
