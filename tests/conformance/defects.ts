/**
 * Known runtime defects: deviations inside a runtime's own HTTP or WebSocket layer that Echo
 * cannot fix from JavaScript (Echo sees whole messages, never frames, and a `Request` does not
 * carry the HTTP version). Each records why, and exactly what the runtime does instead (the
 * trace); the runner checks that trace, so the day a runtime changes, the suite says so.
 *
 * @module
 */
import { CLIENT_CLOSE, closeEvent, type Trace } from "./wire.ts";

/** One recorded deviation. */
export interface KnownDefect {
  /** One line: what is wrong and where it lives. */
  reason: string;
  /** The trace the runtime produces instead of a conforming one. */
  instead: Trace;
}

const normalClose = [CLIENT_CLOSE, closeEvent(1000), "eof"];
const upgradedAnyway = [
  "http 101",
  "protocol (none)",
  "extensions (none)",
  'text "handshake ok"',
  ...normalClose,
];
const HTTP_10: KnownDefect = {
  reason:
    "the runtime's HTTP layer upgrades an HTTP/1.0 request (RFC 9110 §7.8 says ignore Upgrade there), " +
    "and a Request does not tell Echo the HTTP version (denoland/deno#29873, oven-sh/bun#17250)",
  instead: upgradedAnyway,
};
const UNMASKED = "Deno's WebSocket accepts unmasked client frames (RFC 6455 §5.1: MUST fail the connection)";

/** Known defects by entry, then by case id. */
export const KNOWN_DEFECTS: Record<"deno" | "bun", ReadonlyMap<string, KnownDefect>> = {
  deno: new Map([
    ["handshake.20", HTTP_10],
    ["framing.40", { reason: `${UNMASKED}; the text is echoed`, instead: ['text "x"', ...normalClose] }],
    ["framing.41", { reason: `${UNMASKED}; the binary is echoed`, instead: ["binary 78", ...normalClose] }],
    ["framing.42", { reason: `${UNMASKED}; the ping is answered`, instead: ["pong 78", ...normalClose] }],
    ["framing.43", {
      reason: `${UNMASKED}; an unmasked close is answered with close 1000`,
      instead: [closeEvent(1000, { first: true }), "eof"],
    }],
    ["framing.44", {
      reason: `${UNMASKED}; an unmasked frame after a masked one is echoed too`,
      instead: ['text "masked"', 'text "unmasked"', ...normalClose],
    }],
    ["pings.11", {
      reason:
        "Deno's WebSocket accepts a pong of 126 bytes (RFC 6455 §5.5: control frames ≤ 125 bytes) and ignores it",
      instead: normalClose,
    }],
    ["fragmentation.18", {
      reason: "Deno's WebSocket lets a new binary frame interrupt a fragmented text message: it drops the " +
        "first fragment and echoes the rest as binary (RFC 6455 §5.4: MUST fail)",
      instead: ["binary 696e747275646572656e64", ...normalClose],
    }],
    ["utf-8.80", {
      reason:
        "Deno's WebSocket accepts a fragmented text message ending inside a UTF-8 sequence and delivers it " +
        "as an empty string (RFC 6455 §8.1: MUST fail with 1007)",
      instead: ['text ""', ...normalClose],
    }],
    ["utf-8.82", {
      reason: "as utf-8.80, with a 4-byte sequence cut after 3 bytes: delivered as an empty string",
      instead: ['text ""', ...normalClose],
    }],
    ["close.6", {
      reason: "Deno's WebSocket answers a close frame of 126 bytes (RFC 6455 §5.5: ≤ 125) by echoing it, " +
        "sending an invalid control frame itself",
      instead: ["violation: invalid control frame", "eof"],
    }],
  ]),
  bun: new Map([
    ["handshake.20", HTTP_10],
  ]),
};
