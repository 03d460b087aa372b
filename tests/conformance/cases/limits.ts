/**
 * Large and numerous messages (RFC 6455 §5.4, §10.4): everything here is below the size
 * any sane limit refuses, so each must come back whole.
 *
 * @module
 */
import { encodeFrame, OP } from "../../support/raw.ts";
import { ascii, binary, bytes, type CaseSpec, echoed, frames, group, pong, text } from "../case.ts";

const MIB = 1 << 20;
const specs: CaseSpec[] = [];
for (const mib of [2, 4, 8]) {
  const body = ascii(mib * MIB);
  const raw = bytes(mib * MIB, mib);
  specs.push(
    frames({
      title: `a ${mib} MiB text message`,
      rfc: "RFC 6455 §5.2, §10.4",
      script: (w) => w.send({ opcode: OP.TEXT, payload: body }),
      expect: echoed(text(body)),
      timeoutMs: 60_000,
    }),
    frames({
      title: `a ${mib} MiB binary message`,
      rfc: "RFC 6455 §5.2, §10.4",
      script: (w) => w.send({ opcode: OP.BINARY, payload: raw }),
      expect: echoed(binary(raw)),
      timeoutMs: 60_000,
    }),
  );
}
const mib1 = bytes(MIB, 11);
const chunks = 64;
specs.push(
  frames({
    title: "1 MiB of binary in 1024 fragments",
    rfc: "RFC 6455 §5.4",
    script: (w) => w.message(OP.BINARY, mib1, { fragments: 1024 }),
    expect: echoed(binary(mib1)),
    timeoutMs: 30_000,
  }),
  frames({
    title: "1 MiB of text in 4096 fragments",
    rfc: "RFC 6455 §5.4",
    script: (w) => w.message(OP.TEXT, ascii(MIB), { fragments: 4096 }),
    expect: echoed(text(ascii(MIB))),
    timeoutMs: 30_000,
  }),
  frames({
    title: "a text message of 10,000 one-byte fragments",
    rfc: "RFC 6455 §5.4",
    script: (w) => w.message(OP.TEXT, ascii(10_000), { fragments: 10_000 }),
    expect: echoed(text(ascii(10_000))),
    timeoutMs: 30_000,
  }),
  frames({
    title: "1000 small messages in one write, echoed in order",
    rfc: "RFC 6455 §6.1",
    script: (w) =>
      w.write(
        Buffer.concat(
          Array.from({ length: 1000 }, (_, i) => encodeFrame({ opcode: OP.TEXT, payload: `#${i}` })),
        ),
      ),
    expect: echoed(...Array.from({ length: 1000 }, (_, i) => text(`#${i}`))),
    timeoutMs: 30_000,
  }),
  frames({
    title: "100 binary messages of 64 KiB in one write",
    rfc: "RFC 6455 §6.1",
    script: (w) =>
      w.write(
        Buffer.concat(
          Array.from({ length: 100 }, (_, i) => encodeFrame({ opcode: OP.BINARY, payload: bytes(65536, i) })),
        ),
      ),
    expect: echoed(...Array.from({ length: 100 }, (_, i) => binary(bytes(65536, i)))),
    timeoutMs: 60_000,
  }),
  frames({
    title: "4 MiB in 64 fragments with a ping after each",
    rfc: "RFC 6455 §5.4 (control frames between fragments)",
    script(w) {
      const data = bytes(4 * MIB, 5);
      const size = data.length / chunks;
      for (let i = 0; i < chunks; i++) {
        w.send({
          opcode: i ? OP.CONT : OP.BINARY,
          fin: i === chunks - 1,
          payload: data.subarray(i * size, (i + 1) * size),
        });
        if (i < chunks - 1) w.send({ opcode: OP.PING, payload: `${i}` });
      }
    },
    expect: echoed(...Array.from({ length: chunks - 1 }, (_, i) => pong(`${i}`)), binary(bytes(4 * MIB, 5))),
    timeoutMs: 60_000,
  }),
  frames({
    title: "a 2 MiB text message written in 64 KiB pieces",
    rfc: "RFC 6455 §5.2",
    script: (w) => w.chop(encodeFrame({ opcode: OP.TEXT, payload: ascii(2 * MIB) }), 4096 * 16),
    expect: echoed(text(ascii(2 * MIB))),
    timeoutMs: 60_000,
  }),
);

/** The limits group. */
export const LIMITS = group("limits", specs);
