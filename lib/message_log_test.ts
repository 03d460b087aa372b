import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { LOG_CONNECTIONS, LOG_MESSAGES, MessageLog, MessageLogs, PREVIEW_LENGTH } from "./message_log.ts";
import { DROPPED, type Message, type Peer, QUEUED, type SendResult } from "./peer.ts";
import { LoggingPeer } from "./session.ts";

describe("MessageLog", () => {
  test("keeps time, direction, type, size and the first bytes of each message, oldest first", () => {
    const log = new MessageLog();
    const before = Date.now();
    log.add("received", "héllo");
    log.add("sent", new Uint8Array([0, 1, 2, 255]));
    const { logged, messages, note } = log.report();
    assert.equal(logged, 2);
    assert.equal(note, undefined);
    assert.deepEqual(messages.map(({ at: _, ...rest }) => rest), [
      { direction: "received", type: "text", bytes: 6, preview: "héllo", truncated: false },
      { direction: "sent", type: "binary", bytes: 4, preview: "AAEC/w==", truncated: false },
    ]);
    assert.ok(Date.parse(messages[0].at) >= before - 1);
  });

  test(`keeps only the first ${PREVIEW_LENGTH} units of text or bytes of binary, copied`, () => {
    const log = new MessageLog();
    const binary = new Uint8Array(1000).fill(65);
    log.add("received", "x".repeat(1000));
    log.add("received", binary);
    binary.fill(0); // a runtime may reuse or free the buffer once the echo is sent
    const [text, bytes] = log.report().messages;
    assert.equal(text.preview, "x".repeat(PREVIEW_LENGTH));
    assert.equal(text.truncated, true);
    assert.equal(text.bytes, 1000);
    assert.equal(bytes.preview, btoa("A".repeat(PREVIEW_LENGTH)));
    assert.equal(bytes.truncated, true);
  });

  test("does not cut text inside a surrogate pair", () => {
    const log = new MessageLog();
    log.add("received", "x".repeat(PREVIEW_LENGTH - 1) + "😀");
    assert.equal(log.report().messages[0].preview, "x".repeat(PREVIEW_LENGTH - 1));
  });

  test(`keeps the last ${LOG_MESSAGES} messages and counts them all`, () => {
    const log = new MessageLog();
    for (let i = 0; i < LOG_MESSAGES + 7; i++) log.add(i % 2 ? "sent" : "received", String(i));
    const { logged, messages } = log.report();
    assert.equal(logged, LOG_MESSAGES + 7);
    assert.deepEqual(
      messages.map((m) => m.preview),
      Array.from({ length: LOG_MESSAGES }, (_, i) => String(i + 7)),
    );
  });
});

describe("MessageLogs: the process's bound", () => {
  test(`holds at most ${LOG_CONNECTIONS} logs; a new one takes the oldest closed log's place`, () => {
    const logs = new MessageLogs(3);
    const [a, b, c] = [logs.open()!, logs.open()!, logs.open()!];
    assert.equal(logs.open(), undefined, "all three belong to live connections");
    a.add("received", "kept until evicted");
    b.closed = true;
    c.closed = true;
    const d = logs.open();
    assert.ok(d);
    assert.equal(logs.size, 3);
    assert.equal(b.evicted, true, "the oldest closed one gave its place");
    assert.equal(c.evicted, false);
    assert.equal(a.report().messages.length, 1, "a live log is never evicted");
    b.add("received", "too late");
    assert.deepEqual(b.report().messages, []);
    assert.match(b.report().note!, /newer tagged connection/);
    assert.equal(new MessageLogs().limit, LOG_CONNECTIONS);
  });
});

class Recording implements Peer {
  result: SendResult = 5;
  send(_message: Message, _compress: boolean): SendResult {
    return this.result;
  }
  bufferedAmount(): number {
    return 42;
  }
  close(): void {}
}

describe("LoggingPeer", () => {
  test("logs what was sent or queued, not what the runtime dropped, and returns the runtime's result", () => {
    const inner = new Recording();
    const log = new MessageLog();
    const peer = new LoggingPeer(inner, log);
    assert.equal(peer.send("a", false), 5);
    inner.result = QUEUED;
    assert.equal(peer.send("b", false), QUEUED);
    inner.result = DROPPED;
    assert.equal(peer.send("c", false), DROPPED);
    assert.deepEqual(log.report().messages.map((m) => m.preview), ["a", "b"]);
    assert.equal(peer.bufferedAmount(), 42);
  });

  test("has an optional method exactly where the wrapped peer has it", () => {
    const plain = new LoggingPeer(new Recording(), new MessageLog());
    assert.equal(plain.pause, undefined);
    assert.equal(plain.ping, undefined);
    assert.equal(plain.losesCloseToLateInput, undefined);
    assert.equal(plain.losesQueueOnClose, undefined);
    const calls: string[] = [];
    const full = new LoggingPeer(
      Object.assign(new Recording(), {
        pause: () => calls.push("pause"),
        resume: () => calls.push("resume"),
        ping: () => calls.push("ping"),
        terminate: () => calls.push("terminate"),
        losesCloseToLateInput: true,
        losesQueueOnClose: true,
      }),
      new MessageLog(),
    );
    full.pause!();
    full.resume!();
    full.ping!();
    full.terminate!();
    assert.deepEqual(calls, ["pause", "resume", "ping", "terminate"]);
    assert.equal(full.losesCloseToLateInput, true);
    assert.equal(full.losesQueueOnClose, true);
  });
});
