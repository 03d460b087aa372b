import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readBody } from "./request_body.ts";

function streamed(chunks: number[], onPull: () => void = () => {}): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      onPull();
      if (i === chunks.length) return controller.close();
      controller.enqueue(new Uint8Array(chunks[i++]).fill(7));
    },
    // Pulled only when read: nothing is produced ahead of the reader.
  }, { highWaterMark: 0 });
}

describe("readBody", () => {
  test("no body reads as empty; a body within the limit is read whole", async () => {
    assert.deepEqual(await readBody(new Request("http://echo.test/"), 10), {
      ok: true,
      bytes: new Uint8Array(0),
    });
    const result = await readBody(new Request("http://echo.test/", { method: "POST", body: "12345" }), 5);
    assert.ok(result.ok);
    assert.equal(new TextDecoder().decode(result.bytes), "12345");
  });

  test("a Content-Length over the limit is refused before the body is read", async () => {
    let pulls = 0;
    const request = new Request("http://echo.test/", {
      method: "POST",
      body: streamed([4], () => pulls++),
      headers: { "content-length": "11" },
      duplex: "half",
    } as RequestInit);
    assert.deepEqual(await readBody(request, 10), { ok: false, tooLarge: true, size: "11 bytes" });
    assert.equal(pulls, 0, "not a byte read");
  });

  test("a streamed body is counted and dropped as soon as it passes the limit", async () => {
    let pulls = 0;
    const request = new Request("http://echo.test/", {
      method: "POST",
      body: streamed([6, 6, 6, 6, 6, 6], () => pulls++),
      duplex: "half",
    } as RequestInit);
    assert.deepEqual(await readBody(request, 10), { ok: false, tooLarge: true, size: "more than 10 bytes" });
    assert.ok(pulls <= 3, `stopped after ${pulls} chunks`);
  });

  test("several chunks within the limit are joined in order", async () => {
    const request = new Request(
      "http://echo.test/",
      { method: "POST", body: streamed([3, 4]), duplex: "half" } as RequestInit,
    );
    const result = await readBody(request, 10);
    assert.ok(result.ok);
    assert.deepEqual(result.bytes, new Uint8Array(7).fill(7));
  });
});
