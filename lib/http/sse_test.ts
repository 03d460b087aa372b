import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseSseKnobs, sseResponse } from "./sse.ts";
import { testContext } from "../testing_context.ts";

function ids(text: string): number[] {
  return [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
}

/** The events of an SSE text, each as its `event:` (default `message`), `id:` and `data:` lines give it. */
function parseEvents(text: string): Array<{ event: string; id?: string; data: string }> {
  return text.split("\n\n").filter((block) => /^(event|data|id):/m.test(block)).map((block) => {
    const field = (name: string) =>
      block.split("\n").find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
    return { event: field("event") ?? "message", id: field("id"), data: field("data") ?? "" };
  });
}

describe("sseResponse", () => {
  test("a server event and a request event, without ids, before the numbered events", async () => {
    const { context } = testContext({}, { hostname: "node-a" });
    const response = sseResponse(
      new Request("http://echo.test/s%73e?count=2&interval_ms=10&x=1", { headers: { "x-a": "1" } }),
      context,
      "192.0.2.1",
    );
    const events = parseEvents(await response.text());
    assert.deepEqual(events.map((e) => [e.event, e.id]), [
      ["server", undefined],
      ["request", undefined],
      ["time", "1"],
      ["time", "2"],
    ]);
    const { pid, id } = context.process;
    assert.deepEqual(JSON.parse(events[0].data), { hostname: "node-a", runtime: "Test 1", pid, id });
    const request = JSON.parse(events[1].data);
    assert.equal(request.method, "GET");
    assert.equal(request.path, "/s%73e", "the path as sent, as the HTTP echo reports it");
    assert.deepEqual(request.query, { count: "2", interval_ms: "10", x: "1" });
    assert.equal(request.headers["x-a"], "1");
    assert.deepEqual(request.body, { size: 0, encoding: "utf-8", content: "" });
    assert.equal(request.remoteAddress, "192.0.2.1");
    assert.deepEqual(request.servedBy, JSON.parse(events[0].data));
    assert.equal(context.registry.sseEvents, 2, "the numbered events are counted");
  });

  test("count events, each with an id and JSON data, then the stream ends and leaves the hub", async () => {
    const { context, events } = testContext();
    const response = sseResponse(
      new Request("http://echo.test/sse?count=3&interval_ms=10"),
      context,
      "192.0.2.1",
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    assert.equal(context.hub.sessions.length, 1, "a live stream is a hub member");
    const text = await response.text();
    assert.ok(text.startsWith("retry: 10\n\n"), text);
    assert.deepEqual(ids(text), [1, 2, 3]);
    assert.match(text, /^data: \{"id":2,"time":"\d{4}-[^"]+"\}$/m);
    assert.equal(context.hub.sessions.length, 0);
    assert.equal(context.registry.sseEvents, 3);
    assert.deepEqual(events.find((e) => e.event === "sse end")?.by, "complete");
  });

  test("Last-Event-ID resumes after it; a finished stream answers 204", async () => {
    const { context } = testContext();
    const resumed = sseResponse(
      new Request("http://echo.test/sse?count=4&interval_ms=10", { headers: { "last-event-id": "2" } }),
      context,
      "",
    );
    assert.deepEqual(ids(await resumed.text()), [3, 4]);
    const done = sseResponse(
      new Request("http://echo.test/sse?count=4", { headers: { "last-event-id": "4" } }),
      context,
      "",
    );
    assert.equal(done.status, 204);
  });

  test("shutdown's close ends the stream with a comment saying why", async () => {
    const { context } = testContext();
    const response = sseResponse(new Request("http://echo.test/sse?interval_ms=10000"), context, "");
    const reader = response.body!.getReader();
    await reader.read(); // retry
    await reader.read(); // event 1
    context.hub.closeAll(1001, "server shutting down");
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      rest += new TextDecoder().decode(r.value);
    }
    assert.equal(rest, ": server shutting down\n\n");
    assert.equal(context.hub.sessions.length, 0);
  });

  test("a full or draining server answers 503 with Retry-After; other methods 405", async () => {
    const { context } = testContext({ maxConnections: 1 });
    const first = sseResponse(new Request("http://echo.test/sse"), context, "");
    const second = sseResponse(new Request("http://echo.test/sse"), context, "");
    assert.equal(second.status, 503);
    assert.equal(second.headers.get("retry-after"), "5");
    await first.body!.cancel();
    assert.equal(context.hub.sessions.length, 0, "a cancelled stream leaves the hub");
    context.hub.draining = true;
    assert.equal(sseResponse(new Request("http://echo.test/sse"), context, "").status, 503);
    assert.equal(
      sseResponse(new Request("http://echo.test/sse", { method: "POST" }), context, "").status,
      405,
    );
  });
});

describe("parseSseKnobs", () => {
  const parse = (query: string, headers: Record<string, string> = {}, enabled = true) =>
    parseSseKnobs(new URLSearchParams(query), new Headers(headers), enabled);

  test("defaults: endless, one second apart, from id 1", () => {
    assert.deepEqual(parse(""), { count: undefined, intervalMs: 1000, lastId: 0 });
  });

  test("bounded knobs; a bad one is 400 naming it; KNOBS=off is 403", () => {
    assert.deepEqual(parse("count=1&interval_ms=600000"), { count: 1, intervalMs: 600000, lastId: 0 });
    assert.match(
      (parse("count=0") as { message: string }).message,
      /^query parameter count: .* 1 to 1000000$/,
    );
    assert.match((parse("interval_ms=9") as { message: string }).message, /^query parameter interval_ms: /);
    assert.match((parse("count=1&count=2") as { message: string }).message, /given more than once/);
    assert.match((parse("", { "last-event-id": "abc" }) as { message: string }).message, /^Last-Event-ID: /);
    assert.deepEqual(parse("count=3", {}, false), {
      status: 403,
      message: "query parameter count: test knobs are disabled on this server (KNOBS=off)",
    });
  });
});
