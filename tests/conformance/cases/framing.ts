/**
 * Framing (RFC 6455 §5.1–§5.3, §5.6): payload length encodings, masking, chopped writes.
 *
 * @module
 */
import { encodeFrame, OP } from "../../support/raw.ts";
import { ascii, binary, bytes, type CaseSpec, echoed, failed, frames, group, text } from "../case.ts";

const LENGTHS = [0, 1, 125, 126, 127, 128, 1000, 65535, 65536, 65537, 1 << 20];

/** A masked frame header with an explicit length field, for lengths no encoder would choose. */
function header(
  opcode: number,
  lengthField: Uint8Array,
  payload: Uint8Array,
  key = [1, 2, 3, 4],
): Uint8Array {
  const out = new Uint8Array(1 + lengthField.length + 4 + payload.length);
  out[0] = 0x80 | opcode;
  out.set(lengthField, 1);
  out[1] |= 0x80;
  out.set(key, 1 + lengthField.length);
  const start = 5 + lengthField.length;
  for (let i = 0; i < payload.length; i++) out[start + i] = payload[i] ^ key[i & 3];
  return out;
}

const specs: CaseSpec[] = [];
for (const length of LENGTHS) {
  const body = ascii(length);
  specs.push(frames({
    title: `text message of ${length} bytes`,
    rfc: "RFC 6455 §5.2 (payload length)",
    script: (w) => w.send({ opcode: OP.TEXT, payload: body }),
    expect: echoed(text(body)),
  }));
}
for (const length of LENGTHS) {
  const body = bytes(length, length);
  specs.push(frames({
    title: `binary message of ${length} bytes`,
    rfc: "RFC 6455 §5.2 (payload length)",
    script: (w) => w.send({ opcode: OP.BINARY, payload: body }),
    expect: echoed(binary(body)),
  }));
}
for (const [length, size] of [[125, 1], [200, 1], [1000, 7], [65535, 997], [65536, 4096], [300_000, 65536]]) {
  const body = ascii(length);
  const raw = bytes(length, 7);
  specs.push(
    frames({
      title: `text message of ${length} bytes written in ${size}-byte pieces`,
      rfc: "RFC 6455 §5.2 (frames are a byte stream)",
      script: (w) => w.chop(encodeFrame({ opcode: OP.TEXT, payload: body }), size),
      expect: echoed(text(body)),
    }),
    frames({
      title: `binary message of ${length} bytes written in ${size}-byte pieces`,
      rfc: "RFC 6455 §5.2 (frames are a byte stream)",
      script: (w) => w.chop(encodeFrame({ opcode: OP.BINARY, payload: raw }), size),
      expect: echoed(binary(raw)),
    }),
  );
}
specs.push(
  frames({
    title: "frame header split after its first byte",
    rfc: "RFC 6455 §5.2",
    async script(w) {
      const frame = encodeFrame({ opcode: OP.TEXT, payload: "split header" });
      w.write(frame.subarray(0, 1));
      await new Promise((r) => setTimeout(r, 50));
      w.write(frame.subarray(1));
    },
    expect: echoed(text("split header")),
  }),
  frames({
    title: "10 text messages in one TCP write come back in order",
    rfc: "RFC 6455 §5.2, §6.1",
    script: (w) =>
      w.write(
        Buffer.concat(
          Array.from({ length: 10 }, (_, i) => encodeFrame({ opcode: OP.TEXT, payload: `m${i}` })),
        ),
      ),
    expect: echoed(...Array.from({ length: 10 }, (_, i) => text(`m${i}`))),
  }),
  frames({
    title: "100 binary messages in one TCP write come back in order",
    rfc: "RFC 6455 §5.2, §6.1",
    script: (w) =>
      w.write(
        Buffer.concat(
          Array.from({ length: 100 }, (_, i) => encodeFrame({ opcode: OP.BINARY, payload: bytes(i, i) })),
        ),
      ),
    expect: echoed(...Array.from({ length: 100 }, (_, i) => binary(bytes(i, i)))),
  }),
  frames({
    title: "text, binary, text keep their order and types",
    rfc: "RFC 6455 §5.6",
    script(w) {
      w.send({ opcode: OP.TEXT, payload: "one" });
      w.send({ opcode: OP.BINARY, payload: "two" });
      w.send({ opcode: OP.TEXT, payload: "three" });
    },
    expect: echoed(text("one"), binary("two"), text("three")),
  }),
  frames({
    title: "an all-zero masking key is a valid key",
    rfc: "RFC 6455 §5.3",
    script: (w) =>
      w.write(header(OP.TEXT, new Uint8Array([5]), new TextEncoder().encode("zeros"), [0, 0, 0, 0])),
    expect: echoed(text("zeros")),
  }),
);
for (
  const [name, opcode] of [["text", OP.TEXT], ["binary", OP.BINARY], ["ping", OP.PING], [
    "close",
    OP.CLOSE,
  ]] as const
) {
  specs.push(frames({
    title: `an unmasked ${name} frame from the client fails the connection`,
    rfc: "RFC 6455 §5.1 (a server MUST close on an unmasked frame)",
    script: (w) =>
      w.send({ opcode, payload: opcode === OP.CLOSE ? new Uint8Array([3, 232]) : "x" }, { mask: false }),
    expect: failed(1002),
  }));
}
specs.push(
  frames({
    title: "an unmasked text frame after a valid echo",
    rfc: "RFC 6455 §5.1",
    script(w) {
      w.send({ opcode: OP.TEXT, payload: "masked" });
      w.send({ opcode: OP.TEXT, payload: "unmasked" }, { mask: false });
    },
    expect: failed(1002, text("masked")),
  }),
  frames({
    title: "a 64-bit length with the most significant bit set fails the connection",
    rfc: "RFC 6455 §5.2 (the most significant bit MUST be 0)",
    script: (w) =>
      w.write(header(OP.BINARY, new Uint8Array([127, 0x80, 0, 0, 0, 0, 0, 0, 5]), new Uint8Array(5))),
    expect: failed(1002),
    variants: [{ trace: failed(1009), note: "closes with 1009 (too big) instead of 1002 (RFC 6455 §7.4.1)" }],
  }),
  frames({
    title: "a 16-bit length field carrying 5 (not minimal) is read as 5",
    rfc: "RFC 6455 §5.2 (senders MUST use the minimal encoding; receivers are not told to refuse)",
    script: (w) => w.write(header(OP.TEXT, new Uint8Array([126, 0, 5]), new TextEncoder().encode("hello"))),
    expect: echoed(text("hello")),
    variants: [{ trace: failed(1002), note: "refuses a non-minimal length encoding (RFC 6455 §5.2)" }],
  }),
  frames({
    title: "a 64-bit length field carrying 200 (not minimal) is read as 200",
    rfc: "RFC 6455 §5.2 (senders MUST use the minimal encoding; receivers are not told to refuse)",
    script: (w) =>
      w.write(
        header(
          OP.TEXT,
          new Uint8Array([127, 0, 0, 0, 0, 0, 0, 0, 200]),
          new TextEncoder().encode(ascii(200)),
        ),
      ),
    expect: echoed(text(ascii(200))),
    variants: [{ trace: failed(1002), note: "refuses a non-minimal length encoding (RFC 6455 §5.2)" }],
  }),
);

/** The framing group. */
export const FRAMING = group("framing", specs);
