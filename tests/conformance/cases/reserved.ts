/**
 * Reserved bits and reserved opcodes (RFC 6455 §5.2): without a negotiated extension that
 * defines them, each one fails the connection with 1002.
 *
 * @module
 */
import { OP } from "../../support/raw.ts";
import { type CaseSpec, failed, frames, group, text } from "../case.ts";
import type { Wire } from "../wire.ts";

function rsv(bits: number) {
  return { rsv1: (bits & 4) !== 0, rsv2: (bits & 2) !== 0, rsv3: (bits & 1) !== 0 };
}

const bitNames = (bits: number) => ["RSV1", "RSV2", "RSV3"].filter((_, i) => bits & (4 >> i)).join("+");

const FRAME_KINDS: Array<[string, (w: Wire, bits: number) => void]> = [
  ["text", (w, bits) => w.send({ opcode: OP.TEXT, payload: "reserved", ...rsv(bits) })],
  ["binary", (w, bits) => w.send({ opcode: OP.BINARY, payload: "reserved", ...rsv(bits) })],
  ["ping", (w, bits) => w.send({ opcode: OP.PING, payload: "reserved", ...rsv(bits) })],
  ["pong", (w, bits) => w.send({ opcode: OP.PONG, payload: "reserved", ...rsv(bits) })],
  ["close", (w, bits) => w.send({ opcode: OP.CLOSE, payload: new Uint8Array([3, 232]), ...rsv(bits) })],
  ["continuation", (w, bits) => {
    w.send({ opcode: OP.TEXT, fin: false, payload: "frag" });
    w.send({ opcode: OP.CONT, payload: "ment", ...rsv(bits) });
  }],
];

const bitSpecs: CaseSpec[] = [];
for (const [kind, send] of FRAME_KINDS) {
  for (let bits = 1; bits <= 7; bits++) {
    bitSpecs.push(frames({
      title: `${bitNames(bits)} set on a ${kind} frame, no extension negotiated`,
      rfc: "RFC 6455 §5.2 (RSV1-3 MUST be 0 unless an extension defines them)",
      script: (w) => send(w, bits),
      expect: failed(1002),
    }));
  }
}
for (let bits = 1; bits <= 7; bits++) {
  bitSpecs.push(frames({
    title: `a valid echo, then ${bitNames(bits)} on a text frame, then a ping that must go unanswered`,
    rfc: "RFC 6455 §5.2",
    script(w) {
      w.send({ opcode: OP.TEXT, payload: "valid" });
      w.send({ opcode: OP.TEXT, payload: "reserved", ...rsv(bits) });
      w.send({ opcode: OP.PING, payload: "late" });
    },
    expect: failed(1002, text("valid")),
  }));
}

const RESERVED_OPCODES = [3, 4, 5, 6, 7, 11, 12, 13, 14, 15];
const opcodeSpecs: CaseSpec[] = [];
for (const opcode of RESERVED_OPCODES) {
  const kind = opcode < 8 ? "non-control" : "control";
  opcodeSpecs.push(
    frames({
      title: `reserved ${kind} opcode ${opcode}, empty`,
      rfc: "RFC 6455 §5.2 (reserved opcodes fail the connection)",
      script: (w) => w.send({ opcode }),
      expect: failed(1002),
    }),
    frames({
      title: `reserved ${kind} opcode ${opcode} with a payload`,
      rfc: "RFC 6455 §5.2",
      script: (w) => w.send({ opcode, payload: "reserved opcode" }),
      expect: failed(1002),
    }),
    frames({
      title: `a valid echo, then reserved opcode ${opcode}, then a ping that must go unanswered`,
      rfc: "RFC 6455 §5.2",
      script(w) {
        w.send({ opcode: OP.TEXT, payload: "valid" });
        w.send({ opcode, payload: "reserved opcode" });
        w.send({ opcode: OP.PING, payload: "late" });
      },
      expect: failed(1002, text("valid")),
    }),
    frames({
      title: `reserved opcode ${opcode} between the fragments of a text message`,
      rfc: "RFC 6455 §5.2, §5.4",
      script(w) {
        w.send({ opcode: OP.TEXT, fin: false, payload: "frag" });
        w.send({ opcode, payload: "reserved opcode" });
        w.send({ opcode: OP.CONT, payload: "ment" });
      },
      expect: failed(1002),
    }),
  );
}

/** The reserved-bits group. */
export const RESERVED_BITS = group("reserved-bits", bitSpecs);
/** The reserved-opcodes group. */
export const OPCODES = group("opcodes", opcodeSpecs);
