import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { exceedsBytes, messageSize, utf8Length } from "./utf8.ts";

const encoder = new TextEncoder();

const SAMPLES: Array<[string, string, number]> = [
  ["empty", "", 0],
  ["ASCII", "hello, world", 12],
  ["U+007F (last 1-byte)", "\u007f", 1],
  ["U+0080 (first 2-byte)", "\u0080", 2],
  ["2-byte é", "é", 2],
  ["U+07FF (last 2-byte)", "\u07ff", 2],
  ["U+0800 (first 3-byte)", "\u0800", 3],
  ["3-byte €", "€", 3],
  ["3-byte CJK", "日本語", 9],
  ["U+D7FF (just below surrogates)", "\ud7ff", 3],
  ["U+E000 (just above surrogates)", "\ue000", 3],
  ["U+FFFF", "\uffff", 3],
  ["4-byte emoji", "😀", 4],
  ["U+10000 (first 4-byte)", "\u{10000}", 4],
  ["U+10FFFF (last code point)", "\u{10ffff}", 4],
  ["mixed", "aé€😀", 10],
  ["two pairs in a row", "😀😀", 8],
  ["lone high surrogate", "\ud800", 3],
  ["lone low surrogate", "\udc00", 3],
  ["lone high surrogate at the end", "ab\udbff", 5],
  ["high surrogate followed by ASCII", "\ud83da", 4],
  ["high surrogate followed by a pair", "\ud83d\ud83d\ude00", 7],
  ["two high surrogates", "\ud800\ud800", 6],
  ["low then high (reversed pair)", "\ude00\ud83d", 6],
  ["pair split by a lone low", "\udc00\ud83d\ude00\udc00", 10],
];

describe("utf8Length", () => {
  for (const [what, text, bytes] of SAMPLES) {
    test(`${what}: ${bytes} bytes, as TextEncoder says`, () => {
      assert.equal(utf8Length(text), bytes);
      assert.equal(utf8Length(text), encoder.encode(text).length);
    });
  }

  test("agrees with TextEncoder on every BMP code unit", () => {
    for (let code = 0; code <= 0xffff; code += 1) {
      const text = `a${String.fromCharCode(code)}b`;
      if (utf8Length(text) !== encoder.encode(text).length) {
        assert.fail(`U+${code.toString(16)}: ${utf8Length(text)} vs ${encoder.encode(text).length}`);
      }
    }
  });

  test("agrees with TextEncoder on a long mixed string", () => {
    const text = "abc é € 😀 \ud800 \udfff ".repeat(1000);
    assert.equal(utf8Length(text), encoder.encode(text).length);
    assert.equal(utf8Length(text), 24000);
  });
});

describe("messageSize", () => {
  test("counts text in UTF-8 bytes", () => {
    assert.equal(messageSize("é€😀"), 9);
    assert.equal(messageSize(""), 0);
  });

  test("counts binary by byte length", () => {
    assert.equal(messageSize(new Uint8Array(0)), 0);
    assert.equal(messageSize(new Uint8Array([0xff, 0xfe, 0x00])), 3);
  });

  test("counts a view's own bytes, not its buffer's", () => {
    const view = new Uint8Array(new ArrayBuffer(100), 10, 5);
    assert.equal(messageSize(view), 5);
  });
});

describe("exceedsBytes", () => {
  test("binary: by its length", () => {
    assert.equal(exceedsBytes(new Uint8Array(8), 8), false);
    assert.equal(exceedsBytes(new Uint8Array(9), 8), true);
  });

  test("text: by its UTF-8 size, also where .length is within the limit", () => {
    assert.equal(exceedsBytes("12345678", 8), false);
    assert.equal(exceedsBytes("123456789", 8), true);
    assert.equal(exceedsBytes("éééé", 8), false); // 4 units, 8 bytes
    assert.equal(exceedsBytes("éééé€", 8), true); // 5 units, 11 bytes
    assert.equal(exceedsBytes("😀😀", 8), false); // 4 units, 8 bytes
    assert.equal(exceedsBytes("😀😀a", 8), true); // 9 bytes
  });

  test("text far below or above the limit is decided by its length", () => {
    assert.equal(exceedsBytes("€".repeat(1000), 3000), false);
    assert.equal(exceedsBytes("€".repeat(1000), 2999), true);
    assert.equal(exceedsBytes("a".repeat(1000), 999), true);
  });
});
