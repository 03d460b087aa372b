import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { COMPRESS_MIN_BYTES, shouldCompress } from "./compression.ts";

describe("COMPRESS_MIN_BYTES", () => {
  test("is 64", () => {
    assert.equal(COMPRESS_MIN_BYTES, 64);
  });
});

describe("shouldCompress", () => {
  test("ASCII strings: below the threshold no, at and above yes", () => {
    assert.equal(shouldCompress(""), false);
    assert.equal(shouldCompress("a".repeat(COMPRESS_MIN_BYTES - 1)), false);
    assert.equal(shouldCompress("a".repeat(COMPRESS_MIN_BYTES)), true);
    assert.equal(shouldCompress("a".repeat(COMPRESS_MIN_BYTES + 1)), true);
    assert.equal(shouldCompress("a".repeat(10_000)), true);
  });

  test("bytes: below the threshold no, at and above yes", () => {
    assert.equal(shouldCompress(new Uint8Array(0)), false);
    assert.equal(shouldCompress(new Uint8Array(COMPRESS_MIN_BYTES - 1)), false);
    assert.equal(shouldCompress(new Uint8Array(COMPRESS_MIN_BYTES)), true);
    assert.equal(shouldCompress(new Uint8Array(COMPRESS_MIN_BYTES + 1)), true);
  });

  test("a view is judged by its own length, not its buffer's", () => {
    const buffer = new ArrayBuffer(1000);
    assert.equal(shouldCompress(new Uint8Array(buffer, 0, COMPRESS_MIN_BYTES - 1)), false);
    assert.equal(shouldCompress(new Uint8Array(buffer, 500, COMPRESS_MIN_BYTES)), true);
  });

  test("multi-byte strings are judged by UTF-8 size, not .length", () => {
    // 32 × "é" is 32 UTF-16 units but 64 bytes.
    const twoByte = "é".repeat(COMPRESS_MIN_BYTES / 2);
    assert.equal(twoByte.length, 32);
    assert.equal(shouldCompress(twoByte), true);
    assert.equal(shouldCompress("é".repeat(COMPRESS_MIN_BYTES / 2 - 1) + "a"), false); // 63 bytes

    // 21 × "€" is 63 bytes, one more ASCII character crosses the threshold.
    const threeByte = "€".repeat(21);
    assert.equal(shouldCompress(threeByte), false);
    assert.equal(shouldCompress(`${threeByte}a`), true);

    // 16 emoji: 32 UTF-16 units, 64 bytes.
    const fourByte = "😀".repeat(16);
    assert.equal(fourByte.length, 32);
    assert.equal(shouldCompress(fourByte), true);
    assert.equal(shouldCompress("😀".repeat(15) + "abc"), false); // 63 bytes
  });

  test("lone surrogates count as 3 bytes toward the threshold", () => {
    assert.equal(shouldCompress("\ud800".repeat(21)), false); // 63 bytes
    assert.equal(shouldCompress(`${"\ud800".repeat(21)}a`), true); // 64 bytes
  });
});
