import { test } from "node:test";
import assert from "node:assert/strict";
import { acceptValue } from "./accept.ts";

test("the accept value of RFC 6455's example and of the seed's key", async () => {
  assert.equal(await acceptValue("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert.equal(await acceptValue("1CrKNZMpvvE2RDF4Aa866w=="), "GV9ZWv2AENn5HFPL/OnNHijnKcI=");
});
