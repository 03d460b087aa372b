/**
 * Reading a request body with a size cap: a body announced larger than the cap is refused before a
 * byte of it is read, and a chunked one is counted as it streams and dropped the moment it passes
 * the cap, so no request makes Echo hold more than MAX_MESSAGE_BYTES of it.
 *
 * @module
 */

/** A body read whole, or the reason it was not. */
export type BodyResult = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: true; size: string };

/**
 * Reads `request`'s body up to `limit` bytes. Returns `tooLarge` (with the size as known: the
 * Content-Length, or "more than N bytes" for a streamed body) without reading further.
 */
export async function readBody(request: Request, limit: number): Promise<BodyResult> {
  const length = request.headers.get("content-length");
  if (length !== null && /^\d+$/.test(length) && Number(length) > limit) {
    return { ok: false, tooLarge: true, size: `${length} bytes` };
  }
  if (request.body === null) return { ok: true, bytes: new Uint8Array(0) };
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      // Cancelling tells the runtime the rest is not wanted; it then closes the connection
      // rather than read the remainder into nowhere.
      await reader.cancel().catch(() => {});
      return { ok: false, tooLarge: true, size: `more than ${limit} bytes` };
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0] };
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}
