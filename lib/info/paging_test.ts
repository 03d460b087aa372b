import { test } from "node:test";
import assert from "node:assert/strict";
import { FIRST, nextLink, parseInfoQuery } from "./paging.ts";

const parse = (query: string, cap = 25) => parseInfoQuery(new URL(`http://echo.test/info${query}`), cap);

test("no parameters: the first page, INFO_LIMIT long, every tag", () => {
  assert.deepEqual(parse(""), { tag: null, limit: 25, cursor: FIRST });
});

test("limit, cursor and tag are read as given", () => {
  assert.deepEqual(parse("?limit=0&cursor=2951.40&tag=a%20b"), {
    tag: "a b",
    limit: 0,
    cursor: { live: 2951, recent: 40 },
  });
});

test("a limit above INFO_LIMIT is refused rather than quietly cut", () => {
  assert.match((parse("?limit=11", 10) as { error: string }).error, /^limit: .* from 0 to 10 .*got "11"$/);
});

test("nextLink carries the tag and limit, and the cursor where each list continues", () => {
  const query = { tag: "x&y", limit: 10, cursor: FIRST };
  assert.equal(nextLink(query, { live: 31, recent: 0 }), "/info?tag=x%26y&limit=10&cursor=31.0");
  assert.equal(nextLink(query, { live: 0, recent: 0 }), null, "both lists finished");
  assert.equal(
    nextLink({ ...query, limit: 0 }, { live: 31, recent: 7 }),
    null,
    "limit=0 asks for counts only",
  );
});

test("a cursor from nextLink parses back to where it said", () => {
  const link = nextLink({ tag: null, limit: 5, cursor: FIRST }, { live: 12, recent: 3 })!;
  assert.deepEqual(parse(link.slice("/info".length), 25), {
    tag: null,
    limit: 5,
    cursor: { live: 12, recent: 3 },
  });
});
