import { test } from "node:test";
import assert from "node:assert/strict";
import { fieldMap } from "./redis_store.ts";

test("an HGETALL reply reads the same in each shape a client gives it", () => {
  const expected = new Map([["a", "1"], ["b", "2"]]);
  assert.deepEqual(fieldMap(["a", "1", "b", "2"]), expected, "RESP2 flat array (redis on Deno)");
  assert.deepEqual(fieldMap({ a: "1", b: "2" }), expected, "object (Bun's RedisClient)");
  assert.deepEqual(fieldMap(new Map([["a", "1"], ["b", "2"]])), expected, "RESP3 map");
  assert.deepEqual(fieldMap(null), new Map(), "a missing key");
  assert.deepEqual(fieldMap([]), new Map());
});
