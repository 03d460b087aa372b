/**
 * The `Sec-WebSocket-Accept` value (RFC 6455 §4.2.2 step 5.4), for `/info` and its dry run. The
 * runtimes compute their own for the 101; this one only reports it, so WebCrypto's async is fine.
 *
 * @module
 */

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Base64 of the SHA-1 of the key and the protocol's GUID. */
export async function acceptValue(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}
