import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isToken, listHasToken, splitList } from "./tokens.ts";

describe("isToken", () => {
  test("accepts letters, digits and every tchar symbol", () => {
    for (const value of ["chat", "v1.echo", "A-Z_09", "!#$%&'*+-.^_`|~", "x"]) {
      assert.equal(isToken(value), true, value);
    }
  });

  test("refuses the empty string, separators, spaces and non-ASCII", () => {
    for (
      const value of ["", "a b", "a,b", "a;b", 'a"b', "(a)", "a/b", "a:b", "a=b", "{}", "a\tb", "é", "a\nb"]
    ) {
      assert.equal(isToken(value), false, JSON.stringify(value));
    }
  });
});

describe("splitList", () => {
  test("gives [] for null and empty values", () => {
    assert.deepEqual(splitList(null), []);
    assert.deepEqual(splitList(""), []);
    assert.deepEqual(splitList(" , ,\t,"), []);
  });

  test("splits and trims, dropping empty elements", () => {
    assert.deepEqual(splitList("a,b"), ["a", "b"]);
    assert.deepEqual(splitList("a, b"), ["a", "b"]);
    assert.deepEqual(splitList("a ,, b"), ["a", "b"]);
    assert.deepEqual(splitList(" a\t,\tb ,"), ["a", "b"]);
    assert.deepEqual(splitList("single"), ["single"]);
  });

  test("keeps order, case and duplicates", () => {
    assert.deepEqual(splitList("B, a, B"), ["B", "a", "B"]);
  });

  test("does not split inside an element", () => {
    assert.deepEqual(splitList("permessage-deflate; client_max_window_bits, x"), [
      "permessage-deflate; client_max_window_bits",
      "x",
    ]);
  });
});

describe("listHasToken", () => {
  test("finds a token in any case and position", () => {
    assert.equal(listHasToken("Upgrade", "upgrade"), true);
    assert.equal(listHasToken("keep-alive, Upgrade", "upgrade"), true);
    assert.equal(listHasToken("UPGRADE,keep-alive", "upgrade"), true);
    assert.equal(listHasToken("uPgRaDe", "upgrade"), true);
  });

  test("does not match substrings or absent headers", () => {
    assert.equal(listHasToken(null, "upgrade"), false);
    assert.equal(listHasToken("", "upgrade"), false);
    assert.equal(listHasToken("upgrades", "upgrade"), false);
    assert.equal(listHasToken("keep-alive", "upgrade"), false);
    assert.equal(listHasToken("upgrad,", "upgrade"), false, "as long as the token, but another list");
    assert.equal(listHasToken("upgradÉ", "upgrade"), false, "a Latin-1 letter is not its ASCII twin");
    assert.equal(listHasToken("UPGRAD^", "upgrade"), false, "only A to Z are folded");
    assert.equal(listHasToken("websocket", "upgrade"), false);
    assert.equal(listHasToken("up grade", "upgrade"), false);
  });
});
