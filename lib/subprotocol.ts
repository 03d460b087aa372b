/**
 * Subprotocol choice (RFC 6455 §4.2.2 step 5.4 and §11.3.4).
 *
 * @module
 */
import { isToken, splitList } from "./tokens.ts";

/**
 * Echo speaks every subprotocol equally, so it selects the first one the client offered in
 * `Sec-WebSocket-Protocol` (`offer`, `null` when the header is absent).
 * Returns `undefined` when none was offered: the 101 then carries no `Sec-WebSocket-Protocol`.
 * Throws when the header is not a list of tokens.
 */
export function selectSubprotocol(offer: string | null): string | undefined {
  // Most handshakes offer none: return before splitList's arrays, which every upgrade would leave behind.
  if (offer === null) return undefined;
  const offered = splitList(offer);
  const invalid = offered.find((name) => !isToken(name));
  if (invalid !== undefined) throw new SyntaxError(`${JSON.stringify(invalid.slice(0, 40))} is not a token`);
  return offered[0];
}
