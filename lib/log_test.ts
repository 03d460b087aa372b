import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { LogLevel } from "./log.ts";
import { createLogger, describeError, FLUSH_LINES, FLUSH_MS, type LoggerOptions } from "./log.ts";

const NOW = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
const TIME = "2030-01-02T03:04:05.678Z";

/** True when `text` holds a C0 control character or DEL. */
function hasControl(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

function logger(options: Partial<LoggerOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger((line) => lines.push(line), {
    format: "json",
    level: "debug",
    now: () => NOW,
    ...options,
  });
  return { log, lines };
}

describe("createLogger: json", () => {
  test("writes one JSON object per event with time, level, event and the fields", () => {
    const { log, lines } = logger();
    log.log("info", "open", { id: 3, tag: "a b", ok: true, none: null });
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0]), {
      time: TIME,
      level: "info",
      event: "open",
      id: 3,
      tag: "a b",
      ok: true,
      none: null,
    });
    assert.ok(!lines[0].includes("\n"));
  });

  test("fields are optional", () => {
    const { log, lines } = logger();
    log.log("warn", "nothing");
    assert.deepEqual(JSON.parse(lines[0]), { time: TIME, level: "warn", event: "nothing" });
  });

  test("lines in one millisecond keep their own level and event, and the time moves on", () => {
    let now = NOW;
    const lines: string[] = [];
    const log = createLogger((line) => lines.push(line), { format: "json", level: "debug", now: () => now });
    log.log("info", "open", { id: 1 });
    log.log("info", "open", { id: 2 });
    log.log("info", "close", { id: 1 });
    log.log("warn", "close", { id: 2 });
    now += 1;
    log.log("warn", "close", { id: 3 });
    assert.deepEqual(lines.map((line) => JSON.parse(line)), [
      { time: TIME, level: "info", event: "open", id: 1 },
      { time: TIME, level: "info", event: "open", id: 2 },
      { time: TIME, level: "info", event: "close", id: 1 },
      { time: TIME, level: "warn", event: "close", id: 2 },
      { time: "2030-01-02T03:04:05.679Z", level: "warn", event: "close", id: 3 },
    ]);
  });

  test("escapes newlines and quotes so one event stays one line", () => {
    const { log, lines } = logger();
    log.log("info", "close", { reason: 'line\nbreak "quoted"\r\u001b[2J' });
    assert.equal(lines.length, 1);
    assert.ok(!hasControl(lines[0]), lines[0]);
    assert.equal(JSON.parse(lines[0]).reason, 'line\nbreak "quoted"\r\u001b[2J');
  });

  test("announce writes an info event with the message", () => {
    const { log, lines } = logger();
    log.announce("listening", "Echo on Test listening on ws://localhost:1/", { port: 1 });
    assert.deepEqual(JSON.parse(lines[0]), {
      time: TIME,
      level: "info",
      event: "listening",
      message: "Echo on Test listening on ws://localhost:1/",
      port: 1,
    });
  });

  test("uses the wall clock by default", () => {
    const lines: string[] = [];
    const before = Date.now();
    createLogger((line) => lines.push(line), { format: "json", level: "info" }).log("info", "x");
    const time = Date.parse(JSON.parse(lines[0]).time);
    assert.ok(time >= before && time <= Date.now(), lines[0]);
  });
});

describe("createLogger: pretty", () => {
  test("writes time, padded level, event and key=value pairs", () => {
    const { log, lines } = logger({ format: "pretty" });
    log.log("info", "open", { id: 3, remote: "127.0.0.1", ok: false, none: null });
    assert.deepEqual(lines, [`${TIME} info  open id=3 remote=127.0.0.1 ok=false none=null`]);
  });

  test("quotes strings with spaces, quotes, '=' or nothing, and leaves out undefined", () => {
    const { log, lines } = logger({ format: "pretty" });
    log.log("error", "close", {
      reason: "going away",
      q: 'a"b',
      eq: "a=b",
      empty: "",
      gone: undefined,
      plain: "x",
    });
    assert.deepEqual(lines, [
      `${TIME} error close reason="going away" q="a\\"b" eq="a=b" empty="" plain=x`,
    ]);
  });

  test("a newline in a value cannot start a forged line", () => {
    const { log, lines } = logger({ format: "pretty" });
    log.log("info", "open", { tag: "x\n2030-01-01T00:00:00.000Z error forged" });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0].includes("\n"), lines[0]);
  });

  // Pretty format goes to a terminal, and a client chooses its own `tag` (from the URL), so
  // control characters must not reach the operator's terminal raw.
  test("control characters in a value are escaped, not written raw", () => {
    const { log, lines } = logger({ format: "pretty" });
    log.log("info", "open", { tag: "\u001b[2J\u001b]0;pwned\u0007" });
    assert.ok(!hasControl(lines[0]), JSON.stringify(lines[0]));
  });

  test("announce writes the message bare", () => {
    const { log, lines } = logger({ format: "pretty" });
    log.announce("listening", "Echo on Test listening on ws://localhost:1/", { port: 1 });
    assert.deepEqual(lines, ["Echo on Test listening on ws://localhost:1/"]);
  });
});

describe("createLogger: levels", () => {
  const order: LogLevel[] = ["debug", "info", "warn", "error"];
  for (const threshold of order) {
    test(`at level ${threshold} writes only events at or above it`, () => {
      const { log, lines } = logger({ level: threshold });
      for (const level of order) log.log(level, `at ${level}`);
      const written = lines.map((l) => JSON.parse(l).level);
      assert.deepEqual(written, order.slice(order.indexOf(threshold)));
    });
  }

  test("announce is written at every level: the start-up line is never silenced", () => {
    for (const [level, count] of [["debug", 1], ["info", 1], ["warn", 1], ["error", 1]] as const) {
      const { log, lines } = logger({ level });
      log.announce("listening", "line");
      assert.equal(lines.length, count, level);
    }
  });
});

describe("describeError", () => {
  test("names an Error's class and message", () => {
    assert.equal(describeError(new TypeError("bad thing")), "TypeError: bad thing");
    assert.equal(describeError(new Error("x")), "Error: x");
  });

  test("turns anything else into a string", () => {
    assert.equal(describeError("plain"), "plain");
    assert.equal(describeError(42), "42");
    assert.equal(describeError(undefined), "undefined");
  });
});

describe("createLogger: batching", () => {
  test("holds lines and writes them in one call FLUSH_MS after the first", async () => {
    const writes: string[] = [];
    const log = createLogger((text) => writes.push(text), { format: "json", level: "info", batch: true });
    log.log("info", "one");
    await sleep(5);
    log.log("info", "two");
    assert.equal(writes.length, 0, "nothing is written before FLUSH_MS");
    await sleep(FLUSH_MS + 20);
    assert.equal(writes.length, 1);
    assert.deepEqual(writes[0].split("\n").map((line) => JSON.parse(line).event), ["one", "two"]);
    log.log("info", "three");
    await sleep(FLUSH_MS + 20);
    assert.deepEqual(writes.map((text) => text.split("\n").length), [2, 1], "a new batch after a write");
  });

  test("a warning or an error is written at once, after the lines held before it", () => {
    for (const level of ["warn", "error"] as const) {
      const writes: string[] = [];
      const log = createLogger((text) => writes.push(text), { format: "json", level: "info", batch: true });
      log.log("info", "open");
      log.log(level, "failure");
      assert.equal(writes.length, 1, level);
      assert.deepEqual(writes[0].split("\n").map((line) => JSON.parse(line).event), ["open", "failure"]);
    }
  });

  test("each held line keeps the time it was logged at, with its own level and event", () => {
    const LATER = "2030-01-02T03:04:05.679Z";
    const expected = {
      json: [
        { time: TIME, level: "info", event: "open", id: 1 },
        { time: TIME, level: "info", event: "close", id: 1 },
        { time: LATER, level: "info", event: "open", id: 2 },
        { time: LATER, level: "debug", event: "open", id: 3 },
      ],
      pretty: [
        `${TIME} info  open id=1`,
        `${TIME} info  close id=1`,
        `${LATER} info  open id=2`,
        `${LATER} debug open id=3`,
      ],
    };
    for (const format of ["json", "pretty"] as const) {
      let now = NOW;
      const writes: string[] = [];
      const log = createLogger((text) => writes.push(text), {
        format,
        level: "debug",
        batch: true,
        now: () => now,
      });
      log.log("info", "open", { id: 1 });
      log.log("info", "close", { id: 1 });
      now += 1;
      log.log("info", "open", { id: 2 });
      log.log("debug", "open", { id: 3 });
      now += 1;
      log.flush();
      assert.equal(writes.length, 1, format);
      const lines = writes[0].split("\n");
      assert.deepEqual(
        format === "json" ? lines.map((line) => JSON.parse(line)) : lines,
        expected[format],
        format,
      );
    }
  });

  test("writes at once when FLUSH_LINES are held", () => {
    const writes: string[] = [];
    const log = createLogger((text) => writes.push(text), { format: "json", level: "info", batch: true });
    for (let i = 0; i < FLUSH_LINES; i++) log.log("info", "line", { i });
    assert.equal(writes.length, 1);
    assert.equal(writes[0].split("\n").length, FLUSH_LINES);
    log.flush();
    assert.equal(writes.length, 1);
  });

  test("flush() and announce() write what is held at once, in order", () => {
    const writes: string[] = [];
    const log = createLogger((text) => writes.push(text), { format: "json", level: "info", batch: true });
    log.log("info", "held");
    log.announce("listening", "line");
    assert.deepEqual(writes.map((text) => JSON.parse(text).event), ["held", "listening"]);
    log.log("info", "again");
    log.flush();
    assert.equal(JSON.parse(writes[2]).event, "again");
    log.flush();
    assert.equal(writes.length, 3, "an empty flush writes nothing");
  });
});
