/**
 * The closing handshake, close codes and reasons (RFC 6455 §5.5.1, §7.1, §7.4).
 *
 * @module
 */
import { closePayload, encodeFrame, OP } from "../../support/raw.ts";
import { ascii, type CaseSpec, closedBy, failed, frames, group, hexBytes, pong, text } from "../case.ts";

const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
const REGISTERED_LATER = [1012, 1013, 1014];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

const specs: CaseSpec[] = [
  frames({
    title: "a close frame without a payload is answered with a close frame",
    rfc: "RFC 6455 §5.5.1",
    script: (w) => w.send({ opcode: OP.CLOSE }),
    expect: [closedBy(undefined), closedBy(1000)],
  }),
  frames({
    title: "a close frame with a 1-byte payload fails the connection",
    rfc: "RFC 6455 §5.5.1 (a body starts with a 2-byte code)",
    script: (w) => w.send({ opcode: OP.CLOSE, payload: new Uint8Array([3]) }),
    expect: failed(1002),
  }),
  frames({
    title: "close 1000 with an empty reason",
    rfc: "RFC 6455 §5.5.1",
    script: (w) => w.send({ opcode: OP.CLOSE, payload: closePayload(1000) }),
    expect: closedBy(1000),
  }),
  frames({
    title: "close 1000 with a reason",
    rfc: "RFC 6455 §5.5.1",
    script: (w) => w.send({ opcode: OP.CLOSE, payload: closePayload(1000, "goodbye") }),
    expect: closedBy(1000),
  }),
  frames({
    title: "close 1000 with a 123-byte reason (the largest that fits)",
    rfc: "RFC 6455 §5.5 (control payload ≤ 125 bytes)",
    script: (w) => w.send({ opcode: OP.CLOSE, payload: closePayload(1000, ascii(123)) }),
    expect: closedBy(1000),
  }),
  frames({
    title: "close 1000 with a 124-byte reason (payload of 126) fails the connection",
    rfc: "RFC 6455 §5.5",
    script: (w) => w.send({ opcode: OP.CLOSE, payload: closePayload(1000, ascii(124)) }),
    expect: failed(1002),
  }),
  frames({
    title: "close 1000 with a multi-byte UTF-8 reason",
    rfc: "RFC 6455 §5.5.1",
    script: (w) => w.send({ opcode: OP.CLOSE, payload: closePayload(1000, "κόσμε ✓ 🎉") }),
    expect: closedBy(1000),
  }),
  frames({
    title: "close 1000 with an invalid UTF-8 reason fails the connection",
    rfc: "RFC 6455 §5.5.1 (the reason is UTF-8), §8.1",
    script: (w) =>
      w.send({
        opcode: OP.CLOSE,
        payload: Buffer.concat([closePayload(1000), hexBytes("ce ba e1 bd b9 ed a0 80")]),
      }),
    expect: failed(1007),
    variants: [{ trace: failed(1002), note: "closes with 1002 (protocol error) instead of 1007" }],
  }),
];
for (const code of VALID_CODES) {
  specs.push(frames({
    title: `close with valid code ${code} is echoed`,
    rfc: "RFC 6455 §7.4.1, §5.5.1 (the endpoint typically echoes the code)",
    script: (w) => w.send({ opcode: OP.CLOSE, payload: closePayload(code, "code") }),
    expect: closedBy(code),
    variants: [{
      trace: closedBy(1000),
      note: "answers 1000 instead of echoing the code (RFC 6455 §5.5.1 'typically')",
    }],
  }));
}
for (const code of REGISTERED_LATER) {
  specs.push(frames({
    title: `close with IANA-registered code ${code}`,
    rfc: "RFC 6455 §7.4.2, §11.7 (IANA WebSocket Close Code Number Registry)",
    script: (w) => w.send({ opcode: OP.CLOSE, payload: closePayload(code) }),
    expect: closedBy(code),
    variants: [
      { trace: closedBy(1000), note: "answers 1000 instead of echoing the code" },
      {
        trace: closedBy(1002),
        note: "treats the code as reserved, as RFC 6455 alone (before the registry) would",
      },
    ],
  }));
}
for (const code of INVALID_CODES) {
  specs.push(frames({
    title: `close with invalid code ${code} fails the connection`,
    rfc: "RFC 6455 §7.4.1, §7.4.2 (codes that MUST NOT be sent, or are undefined)",
    script: (w) => w.send({ opcode: OP.CLOSE, payload: closePayload(code) }),
    expect: failed(1002),
  }));
}
specs.push(
  frames({
    title: "a text frame after the close frame is ignored",
    rfc: "RFC 6455 §5.5.1 (no data frames after a close frame)",
    script(w) {
      w.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
      w.send({ opcode: OP.TEXT, payload: "too late" });
    },
    expect: closedBy(1000),
  }),
  frames({
    title: "a ping after the close frame is ignored",
    rfc: "RFC 6455 §5.5.1",
    script(w) {
      w.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
      w.send({ opcode: OP.PING, payload: "too late" });
    },
    expect: closedBy(1000),
  }),
  frames({
    title: "a second close frame is ignored",
    rfc: "RFC 6455 §5.5.1",
    script(w) {
      w.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
      w.send({ opcode: OP.CLOSE, payload: closePayload(1001) });
    },
    expect: closedBy(1000),
  }),
  frames({
    title: "a text message, then close: the echo comes before the close",
    rfc: "RFC 6455 §5.5.1, §7.1.2",
    script(w) {
      w.send({ opcode: OP.TEXT, payload: "last words" });
      w.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
    },
    expect: closedBy(1000, text("last words")),
  }),
  frames({
    title: "a ping, then close: the pong comes before the close",
    rfc: "RFC 6455 §5.5.1, §5.5.2",
    script(w) {
      w.send({ opcode: OP.PING, payload: "last ping" });
      w.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
    },
    expect: closedBy(1000, pong("last ping")),
  }),
  frames({
    title: "a close frame written one byte at a time",
    rfc: "RFC 6455 §5.2, §5.5.1",
    async script(w) {
      w.sentClose = true;
      await w.chop(encodeFrame({ opcode: OP.CLOSE, payload: closePayload(1000, "chopped") }), 1);
    },
    expect: closedBy(1000),
  }),
  frames({
    title: "close 3000 with a reason, after an echo",
    rfc: "RFC 6455 §7.4.2",
    script(w) {
      w.send({ opcode: OP.BINARY, payload: "data" });
      w.send({ opcode: OP.CLOSE, payload: closePayload(3000, "app code") });
    },
    expect: closedBy(3000, "binary 64617461"),
    variants: [{
      trace: closedBy(1000, "binary 64617461"),
      note: "answers 1000 instead of echoing the code",
    }],
  }),
);

/** The close group. */
export const CLOSE = group("close", specs);
