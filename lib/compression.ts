/**
 * When an echo is worth compressing. Only Bun negotiates permessage-deflate, and its `send`
 * compresses only when asked, so the rule lives here and Bun's entry asks by it.
 *
 * @module
 */
import { exceedsBytes } from "./utf8.ts";

/**
 * Messages shorter than this are sent uncompressed: DEFLATE's block overhead makes them
 * larger, not smaller, and the CPU spent buys nothing (docs/benchmarks.md, "Deflate threshold").
 */
export const COMPRESS_MIN_BYTES = 64;

/**
 * True when `message` should be sent compressed on a connection that negotiated deflate;
 * `bytes` is its size when the caller already has it (the echo path counts every message).
 */
export function shouldCompress(message: string | Uint8Array, bytes?: number): boolean {
  if (bytes !== undefined) return bytes >= COMPRESS_MIN_BYTES;
  return exceedsBytes(message, COMPRESS_MIN_BYTES - 1);
}
