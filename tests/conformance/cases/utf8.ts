/**
 * UTF-8 handling (RFC 6455 §5.6, §8.1; RFC 3629): text messages must be valid UTF-8, checked
 * over the whole message — so a code point split across fragments is valid — and an invalid
 * one fails the connection with 1007. Sequences follow the classic UTF-8 decoder stress test.
 *
 * @module
 */
import { OP } from "../../support/raw.ts";
import { type CaseSpec, echoed, failed, frames, group, hexBytes, text } from "../case.ts";

const VALID: Array<[string, string]> = [
  ["Greek κόσμε", "ce ba e1 bd b9 cf 83 ce bc ce b5"],
  ["Hello-µ@ßöäüàá-UTF-8!!", "48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121"],
  ["U+0000 (NUL bytes)", "00 00 00"],
  ["U+0080, first 2-byte", "c2 80"],
  ["U+0800, first 3-byte", "e0 a0 80"],
  ["U+10000, first 4-byte", "f0 90 80 80"],
  ["U+007F, last 1-byte", "7f"],
  ["U+07FF, last 2-byte", "df bf"],
  ["U+FFFF, last 3-byte", "ef bf bf"],
  ["U+10FFFF, last code point", "f4 8f bf bf"],
  ["U+D7FF, before the surrogates", "ed 9f bf"],
  ["U+E000, after the surrogates", "ee 80 80"],
  ["U+FFFD, replacement character", "ef bf bd"],
  ["U+FFFE, noncharacter", "ef bf be"],
  ["U+FDD0, noncharacter", "ef b7 90"],
  ["U+1FFFF, noncharacter", "f0 9f bf bf"],
  ["U+FEFF, byte order mark", "ef bb bf 41"],
  ["emoji 🎉", "f0 9f 8e 89"],
  ["CJK 日本語", "e6 97 a5 e6 9c ac e8 aa 9e"],
  ["mixed 1-4 byte sequences", "41 c3 a9 e2 82 ac f0 9f 98 80 5a"],
];

const INVALID: Array<[string, string]> = [
  ["κόσμε then a surrogate then text", "ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64"],
  ["5-byte sequence, first", "f8 88 80 80 80"],
  ["6-byte sequence, first", "fc 84 80 80 80 80"],
  ["5-byte sequence, last", "fb bf bf bf bf"],
  ["6-byte sequence, last", "fd bf bf bf bf bf"],
  ["U+110000, beyond Unicode", "f4 90 80 80"],
  ["U+1FFFFF, beyond Unicode", "f7 bf bf bf"],
  ["lone continuation 0x80", "80"],
  ["lone continuation 0xbf", "bf"],
  ["two continuations", "80 bf"],
  ["three continuations", "80 bf 80"],
  ["all 64 continuation bytes", Array.from({ length: 64 }, (_, i) => (0x80 + i).toString(16)).join("")],
  ["2-byte start then space", "c0 20"],
  ["3-byte start then space", "e0 20"],
  ["4-byte start then space", "f0 20"],
  ["5-byte start then space", "f8 20"],
  ["6-byte start then space", "fc 20"],
  ["truncated 2-byte", "c2"],
  ["truncated 3-byte (1 of 2)", "e0 80"],
  ["truncated 3-byte (2 of 3)", "ef bf"],
  ["truncated 4-byte (3 of 4)", "f0 90 80"],
  ["truncated 4-byte, last", "f7 bf bf"],
  ["truncated sequences concatenated", "c0 e0 80 f0 80 80 df ef bf f7 bf bf"],
  ["byte 0xfe", "fe"],
  ["byte 0xff", "ff"],
  ["bytes fe fe ff ff", "fe fe ff ff"],
  ["overlong '/' in 2 bytes", "c0 af"],
  ["overlong '/' in 3 bytes", "e0 80 af"],
  ["overlong '/' in 4 bytes", "f0 80 80 af"],
  ["overlong U+007F in 2 bytes", "c1 bf"],
  ["overlong U+07FF in 3 bytes", "e0 9f bf"],
  ["overlong U+FFFF in 4 bytes", "f0 8f bf bf"],
  ["overlong NUL in 2 bytes", "c0 80"],
  ["overlong NUL in 3 bytes", "e0 80 80"],
  ["overlong NUL in 4 bytes", "f0 80 80 80"],
  ["surrogate U+D800", "ed a0 80"],
  ["surrogate U+DB7F", "ed ad bf"],
  ["surrogate U+DB80", "ed ae 80"],
  ["surrogate U+DBFF", "ed af bf"],
  ["surrogate U+DC00", "ed b0 80"],
  ["surrogate U+DF80", "ed be 80"],
  ["surrogate U+DFFF", "ed bf bf"],
  ["surrogate pair U+D800 U+DC00", "ed a0 80 ed b0 80"],
  ["surrogate pair U+DBFF U+DFFF", "ed af bf ed bf bf"],
  ["valid text, then 0xff at the end", "48 65 6c 6c 6f ff"],
];

const specs: CaseSpec[] = [];
for (const [name, hex] of VALID) {
  const data = hexBytes(hex);
  specs.push(
    frames({
      title: `valid UTF-8, one frame: ${name}`,
      rfc: "RFC 6455 §5.6, §8.1",
      script: (w) => w.send({ opcode: OP.TEXT, payload: data }),
      expect: echoed(text(data)),
    }),
    frames({
      title: `valid UTF-8 split into one-byte fragments (code points cut): ${name}`,
      rfc: "RFC 6455 §5.6 (text is validated per message, not per frame)",
      script: (w) => w.message(OP.TEXT, data, { fragments: data.length }),
      expect: echoed(text(data)),
    }),
  );
}
for (const [name, hex] of INVALID) {
  const data = hexBytes(hex);
  specs.push(
    frames({
      title: `invalid UTF-8, one frame: ${name}`,
      rfc: "RFC 6455 §8.1 (fail with 1007)",
      script: (w) => w.send({ opcode: OP.TEXT, payload: data }),
      expect: failed(1007),
    }),
    frames({
      title: `invalid UTF-8 in one-byte fragments: ${name}`,
      rfc: "RFC 6455 §8.1",
      script: (w) => w.message(OP.TEXT, data, { fragments: data.length }),
      expect: failed(1007),
    }),
  );
}
const FAIL_FAST: Array<[string, string, string]> = [
  ["a surrogate in the first fragment", "ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80", "65 64 69 74 65 64"],
  ["byte 0xff in the first fragment", "48 65 6c 6c 6f ff", "77 6f 72 6c 64"],
  ["an overlong sequence in the first fragment", "41 c0 af", "42"],
  ["a 4-byte sequence beyond U+10FFFF in the first fragment", "f4 90 80 80", "41"],
];
for (const [name, first, rest] of FAIL_FAST) {
  specs.push(frames({
    title: `fail fast on ${name}`,
    rfc: "RFC 6455 §8.1 (fail as soon as the data is known invalid)",
    async script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: hexBytes(first) });
      if (await w.settle(500)) return;
      w.mark("sent the rest");
      w.send({ opcode: OP.CONT, payload: hexBytes(rest) });
    },
    expect: failed(1007),
    variants: [{
      trace: ["mark sent the rest", ...failed(1007)],
      note:
        "validates at the end of the message rather than as the fragment arrives (RFC 6455 §8.1 allows both)",
    }],
  }));
}

/** The UTF-8 group. */
export const UTF8 = group("utf-8", specs);
