import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { COMPRESS_MIN_BYTES } from "./compression.ts";
import type { Config } from "./config.ts";
import { captureConnection, type Connection, receivedTraffic, sentTraffic } from "./connection.ts";
import type { Context } from "./context.ts";
import type { Knobs } from "./knobs.ts";
import type { Registry, Totals } from "./registry.ts";
import {
  ABNORMAL,
  BY_RUNTIME,
  CLOSE,
  CLOSE_TIMEOUT_MS,
  DRAIN_POLL_MS,
  EchoSession,
  LoggedSession,
  openSession,
  PAUSE_PROBE_MS,
} from "./session.ts";
import { DROPPED, type Message, type Peer, QUEUED, type SendResult } from "./peer.ts";
import { messageSize } from "./utf8.ts";
import { type LoggedEvent, type TestContext, testContext } from "./testing_context.ts";

/** A Peer that records what the session asked of it, answers sends as told, and can fail. */
class FakePeer implements Peer {
  sends: Array<{ message: Message; compress: boolean }> = [];
  closes: Array<{ code: number; reason: string }> = [];
  calls: string[] = [];
  /** What the next sends report; "queued" also grows the buffer by the message's length. */
  status: "sent" | "queued" | "dropped" = "sent";
  buffered = 0;
  failSend: Error | null = null;
  failClose: Error | null = null;

  send(message: Message, compress: boolean): SendResult {
    if (this.failSend) throw this.failSend;
    this.sends.push({ message, compress });
    if (this.status === "queued") this.buffered += message.length;
    return { sent: messageSize(message), queued: QUEUED, dropped: DROPPED }[this.status];
  }

  bufferedAmount(): number {
    return this.buffered;
  }

  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
    if (this.failClose) throw this.failClose;
  }
}

/** A peer of a runtime that can stop reading, ping and drop the connection (Bun's shape). */
class PausingPeer extends FakePeer {
  pause(): void {
    this.calls.push("pause");
  }
  resume(): void {
    this.calls.push("resume");
  }
  ping(): void {
    this.calls.push("ping");
  }
  terminate(): void {
    this.calls.push("terminate");
  }
}

/** A peer of a runtime that cannot stop reading and loses a close frame to a late message (Deno's shape). */
class LateInputPeer extends FakePeer {
  readonly losesCloseToLateInput = true;
}

/**
 * A peer of a runtime that ends a closing socket with its queue unwritten and sends the close asked in a
 * handler only once it returns (Bun's shape, with pause, ping and terminate).
 */
class QueueLosingPeer extends PausingPeer {
  readonly losesQueueOnClose = true;
}

interface Setup<P extends FakePeer> {
  peer: P;
  context: Context;
  registry: Registry;
  connection: Connection;
  session: EchoSession;
  events: LoggedEvent[];
}

/** A session on a fresh test context, or on `on`'s (another setup's) to share it. */
function setup<P extends FakePeer = FakePeer>(
  options: { peer?: P; config?: Partial<Config>; on?: TestContext; extensions?: string; knobs?: Knobs } = {},
): Setup<P> {
  const { context, events } = options.on ?? testContext(options.config);
  const registry = context.registry;
  const connection = captureConnection(new Request("http://echo.test/room?tag=s"), {
    id: registry.nextId(),
    remoteAddress: "127.0.0.1",
    protocol: "chat",
    extensions: options.extensions ?? "",
    knobs: options.knobs,
  });
  const peer = options.peer ?? (new FakePeer() as P);
  const session = new EchoSession(peer, connection, context);
  return { peer, context, registry, connection, session, events };
}

/** The process's totals as `/info` reports them: live sessions and closed ones. */
function totals(context: Context): Totals {
  return context.registry.totals(context.hub.connections());
}

/** The byte length of a close reason; RFC 6455 allows at most 123. */
function reasonBytes(reason: string): number {
  return new TextEncoder().encode(reason).length;
}

describe("EchoSession: opening", () => {
  test("CLOSE codes are RFC 6455's", () => {
    assert.deepEqual({ ...CLOSE }, { GOING_AWAY: 1001, POLICY: 1008, TOO_BIG: 1009, INTERNAL_ERROR: 1011 });
  });

  test("counts the connection, joins the hub (where /info finds it live) and logs the open", () => {
    const { context, registry, connection, session, events } = setup();
    assert.equal(session.connection, connection);
    assert.equal(registry.totals([]).connections, 1);
    assert.deepEqual([...context.hub.sessions], [session]);
    assert.equal(events.length, 1);
    assert.deepEqual({ ...events[0], time: 0 }, {
      time: 0,
      level: "info",
      event: "open",
      id: connection.id,
      tag: "s",
      remote: "127.0.0.1",
      path: "/room",
      protocol: "chat",
      extensions: "",
    });
  });
});

describe("EchoSession: echo", () => {
  test("echoes text and binary unchanged, the same object", () => {
    const { peer, session } = setup();
    const bytes = new Uint8Array([0, 1, 255]);
    session.receive("hello");
    session.receive(bytes);
    session.receive("");
    assert.equal(peer.sends.length, 3);
    assert.equal(peer.sends[0].message, "hello");
    assert.equal(peer.sends[1].message, bytes);
    assert.deepEqual([...(peer.sends[1].message as Uint8Array)], [0, 1, 255]);
    assert.equal(peer.sends[2].message, "");
    assert.deepEqual(peer.closes, []);
  });

  test("on a deflate connection, asks for compression by the COMPRESS_MIN_BYTES rule", () => {
    const { peer, session } = setup({ extensions: "permessage-deflate" });
    session.receive("a".repeat(COMPRESS_MIN_BYTES - 1));
    session.receive("a".repeat(COMPRESS_MIN_BYTES));
    session.receive(new Uint8Array(COMPRESS_MIN_BYTES - 1));
    session.receive(new Uint8Array(COMPRESS_MIN_BYTES));
    session.receive("é".repeat(COMPRESS_MIN_BYTES / 2));
    assert.deepEqual(peer.sends.map((s) => s.compress), [false, true, false, true, true]);
  });

  test("without deflate negotiated, never asks for compression", () => {
    const { peer, session } = setup();
    session.receive("a".repeat(COMPRESS_MIN_BYTES));
    session.receive(new Uint8Array(COMPRESS_MIN_BYTES));
    assert.deepEqual(peer.sends.map((s) => s.compress), [false, false]);
  });

  test("counts the size a runtime reports for its send", () => {
    const { peer, connection, session } = setup();
    peer.send = (message) => (peer.sends.push({ message, compress: false }), 7);
    session.receive("seven?");
    assert.deepEqual(receivedTraffic(connection), { messages: 1, bytes: 7 });
    assert.deepEqual(sentTraffic(connection), { messages: 1, bytes: 7 });
  });

  test("counts what it received and sent", () => {
    const { context, connection, session } = setup();
    session.receive("é€"); // 5 bytes
    session.receive(new Uint8Array(7));
    assert.deepEqual(receivedTraffic(connection), { messages: 2, bytes: 12 });
    assert.deepEqual(sentTraffic(connection), { messages: 2, bytes: 12 });
    assert.deepEqual(totals(context).received, { messages: 2, bytes: 12 });
    assert.deepEqual(totals(context).sent, { messages: 2, bytes: 12 });
    session.closed(1000, "");
    assert.deepEqual(totals(context).received, { messages: 2, bytes: 12 }, "still counted once closed");
    assert.deepEqual(totals(context).sent, { messages: 2, bytes: 12 });
  });
});

describe("EchoSession: receiveOwned", () => {
  test("frees the message's buffer once echoed, unless the buffer holds more than the message", () => {
    const { peer, session } = setup();
    const message = new Uint8Array(1024).fill(7);
    session.receiveOwned(message);
    assert.equal(peer.sends[0].message, message, "echoed before its buffer is freed");
    assert.equal(message.buffer.detached, true, "the message's buffer is freed");
    const shared = new Uint8Array(new ArrayBuffer(2048), 0, 1024);
    session.receiveOwned(shared);
    assert.equal(shared.buffer.detached, false, "a buffer holding more than the message is left alone");
    assert.equal(peer.sends.length, 2);
  });

  test("keeps the buffer of a message the delay knob holds, and echoes it whole", async () => {
    const { peer, session } = setup({ knobs: { delayMs: 20 } });
    const message = new Uint8Array(64 * 1024).fill(7);
    session.receiveOwned(message);
    assert.equal(message.buffer.detached, false);
    await sleep(60);
    assert.deepEqual(peer.sends.map(({ message }) => message), [new Uint8Array(64 * 1024).fill(7)]);
    session.closed(1000, "");
  });
});

describe("EchoSession: message size", () => {
  test("a message of exactly MAX_MESSAGE_BYTES (UTF-8 bytes for text) is echoed", () => {
    const { peer, session } = setup({ config: { maxMessageBytes: 8 } });
    session.receive("12345678");
    session.receive(new Uint8Array(8));
    session.receive("éééé");
    assert.equal(peer.sends.length, 3);
    assert.deepEqual(peer.closes, []);
  });

  test("a larger message closes with 1009 and a reason naming both sizes, and is not echoed", () => {
    for (const message of ["123456789", new Uint8Array(9), "éééé€"]) {
      const { peer, connection, session } = setup({ config: { maxMessageBytes: 8 } });
      session.receive(message);
      assert.deepEqual(peer.sends, []);
      assert.equal(peer.closes.length, 1);
      assert.equal(peer.closes[0].code, 1009);
      assert.match(peer.closes[0].reason, /\b(9|11) bytes\b.*\b8\b/);
      assert.ok(reasonBytes(peer.closes[0].reason) <= 123);
      assert.deepEqual(sentTraffic(connection), { messages: 0, bytes: 0 });
    }
  });

  test("messages arriving once the session is closing are ignored", () => {
    const { peer, context, session } = setup({ config: { maxMessageBytes: 8 } });
    session.receive("123456789");
    session.receive("small");
    session.receive("1234567890");
    assert.deepEqual(peer.sends, []);
    assert.equal(peer.closes.length, 1, "one close frame");
    assert.deepEqual(totals(context).received, { messages: 0, bytes: 0 });
  });

  test("after a close() a message is neither echoed nor counted", () => {
    const { peer, context, session } = setup();
    session.close(1001, "bye");
    session.receive("late");
    assert.deepEqual(peer.sends, []);
    assert.deepEqual(totals(context).received, { messages: 0, bytes: 0 });
  });
});

describe("EchoSession: flow control", () => {
  test('"queued" on a runtime that can pause stops reading; drained() resumes', () => {
    const { peer, session, connection } = setup({ peer: new PausingPeer() });
    peer.status = "queued";
    session.receive("one");
    assert.deepEqual(peer.calls, ["pause"]);
    assert.deepEqual(sentTraffic(connection), { messages: 1, bytes: 3 }, "a queued echo counts as sent");
    session.drained();
    assert.deepEqual(peer.calls, ["pause", "resume"]);
    assert.deepEqual(peer.closes, []);
  });

  test("a pausing runtime is never closed for its queue, however large", () => {
    const { peer, session } = setup({ peer: new PausingPeer(), config: { maxBufferedBytes: 1024 } });
    peer.status = "queued";
    session.receive("x".repeat(4096));
    session.receive("x".repeat(4096));
    assert.deepEqual(peer.closes, []);
    assert.equal(peer.sends.length, 2, "nothing is dropped");
  });

  test('"sent" neither pauses nor closes', () => {
    const { peer, session } = setup({ peer: new PausingPeer() });
    session.receive("x");
    assert.deepEqual(peer.calls, []);
    assert.deepEqual(peer.closes, []);
  });

  test("drained() on a runtime that cannot pause does nothing", () => {
    const { peer, session } = setup();
    session.drained();
    assert.deepEqual(peer.closes, []);
  });

  test('"queued" without pause is allowed up to MAX_BUFFERED_BYTES', () => {
    const { peer, session, events } = setup({ config: { maxBufferedBytes: 1024 } });
    peer.status = "queued";
    session.receive("x".repeat(1000));
    session.receive("x".repeat(24));
    assert.equal(peer.buffered, 1024);
    assert.deepEqual(peer.closes, []);
    assert.equal(events.filter((e) => e.event === "overflow").length, 0);
  });

  test('"queued" without pause past MAX_BUFFERED_BYTES stops echoing at once and logs a warning', async () => {
    const { peer, session, connection, events } = setup({
      peer: new LateInputPeer(),
      config: { maxBufferedBytes: 1024 },
    });
    peer.status = "queued";
    session.receive("x".repeat(1000));
    session.receive("x".repeat(25));
    assert.equal(peer.sends.length, 2, "the echo that crossed the cap was still sent");
    assert.deepEqual(sentTraffic(connection), { messages: 2, bytes: 1025 });
    const warning = events.find((e) => e.event === "overflow");
    assert.equal(warning?.level, "warn");
    assert.equal(warning?.id, connection.id);
    assert.equal(warning?.buffered, 1025);
    assert.equal(warning?.limit, 1024);
    session.receive("after");
    assert.equal(peer.sends.length, 2, "nothing more is echoed once over the cap");
    // On Deno the close frame waits until the client has read the queue: sent behind unread echoes
    // while the client keeps sending, Deno would abandon it.
    await sleep(DRAIN_POLL_MS * 3);
    assert.equal(peer.closes.length, 0, "no close while echoes are still queued");
    peer.buffered = 0;
    await sleep(DRAIN_POLL_MS * 3);
    assert.equal(peer.closes.length, 1);
    assert.equal(peer.closes[0].code, 1008);
    assert.match(peer.closes[0].reason, /send buffer limit exceeded/);
    assert.ok(reasonBytes(peer.closes[0].reason) <= 123);
    session.closed(1008, peer.closes[0].reason);
  });

  test("a session waiting for its queue to drain closes after the idle timeout if it never does", {
    timeout: 15_000,
  }, async () => {
    const { peer, session } = setup({
      peer: new LateInputPeer(),
      config: { maxBufferedBytes: 1024, idleTimeoutSeconds: 0 },
    });
    peer.status = "queued";
    session.receive("x".repeat(2000));
    assert.equal(peer.closes.length, 0);
    await sleep(CLOSE_TIMEOUT_MS + DRAIN_POLL_MS * 4);
    assert.equal(peer.closes.length, 1, "closed at the deadline although the queue never drained");
    assert.equal(peer.closes[0].code, 1008);
    session.closed(1006, "");
  });

  test('"dropped" closes with 1008 (at once unless late input loses it), logs, and counts no echo', async () => {
    for (const peer of [new PausingPeer(), new FakePeer(), new LateInputPeer()]) {
      const { session, connection, events } = setup({ peer });
      peer.status = "dropped";
      session.receive("lost");
      assert.deepEqual(receivedTraffic(connection), { messages: 1, bytes: 4 });
      assert.deepEqual(sentTraffic(connection), { messages: 0, bytes: 0 });
      if (peer instanceof LateInputPeer) {
        await sleep(DRAIN_POLL_MS * 3);
      }
      assert.equal(peer.closes.length, 1);
      assert.equal(peer.closes[0].code, 1008);
      assert.ok(reasonBytes(peer.closes[0].reason) <= 123);
      assert.deepEqual(peer.calls, [], "a drop is not backpressure: no pause");
      assert.equal(events.find((e) => e.event === "overflow")?.level, "warn");
      session.closed(1008, "");
    }
  });
});

describe("EchoSession: closing where late input loses the close frame (Deno)", () => {
  test("the close frame waits until no message has arrived for a whole poll", async () => {
    const { peer, session, connection } = setup({
      peer: new LateInputPeer(),
      knobs: { close: { code: 4001, reason: "bye", after: 1 } },
    });
    session.receive("one");
    assert.equal(peer.sends.length, 1);
    assert.deepEqual(peer.closes, [], "not at once: the client may still be sending");
    // A client that keeps sending holds the frame back; its messages are neither echoed nor counted.
    // (A flood on a timer shorter than the poll's fires first even after a stall of the loaded machine.)
    const flood = setInterval(() => session.receive("late"), DRAIN_POLL_MS / 5);
    await sleep(DRAIN_POLL_MS * 4);
    clearInterval(flood);
    assert.deepEqual(peer.closes, []);
    assert.equal(peer.sends.length, 1);
    assert.deepEqual(receivedTraffic(connection), { messages: 1, bytes: 3 });
    await sleep(DRAIN_POLL_MS * 3);
    assert.deepEqual(peer.closes, [{ code: 4001, reason: "bye" }]);
    session.closed(4001, "bye");
  });

  test("a client that never pauses gets the close frame at the deadline", { timeout: 15_000 }, async () => {
    const { peer, session } = setup({ peer: new LateInputPeer(), config: { idleTimeoutSeconds: 0 } });
    session.close(CLOSE.GOING_AWAY, "server shutting down");
    const flood = setInterval(() => session.receive("x"), DRAIN_POLL_MS / 5);
    try {
      await sleep(CLOSE_TIMEOUT_MS - 1_000);
      assert.deepEqual(peer.closes, []);
      await sleep(1_000 + DRAIN_POLL_MS * 4);
      assert.deepEqual(peer.closes, [{ code: 1001, reason: "server shutting down" }]);
    } finally {
      clearInterval(flood);
    }
    session.closed(1006, "");
  });

  test("a second close while waiting changes nothing; closed() stops the wait", async () => {
    const { peer, session } = setup({ peer: new LateInputPeer() });
    session.close(1008, "first");
    session.close(1001, "second");
    session.closed(1006, "");
    await sleep(DRAIN_POLL_MS * 3);
    assert.deepEqual(peer.closes, [], "the socket is gone: no close frame to send");
  });
});

describe("EchoSession: closing where the runtime may end a socket with its queue unwritten (Bun)", () => {
  test("the close goes out on a later turn, after reading is resumed, when nothing is queued", async () => {
    const { peer, session, registry } = setup({
      peer: new QueueLosingPeer(),
      knobs: { close: { code: 4001, reason: "bye", after: 1 } },
    });
    session.receive("one");
    assert.deepEqual(peer.closes, [], "not inside the runtime's message handler");
    assert.deepEqual(peer.calls, ["resume"], "input is read (and ignored) so that none is left unread");
    session.receive("late");
    assert.equal(peer.sends.length, 1);
    await sleep(10);
    assert.deepEqual(peer.closes, [{ code: 4001, reason: "bye" }]);
    session.closed(4001, "bye");
    assert.deepEqual(pick(registry.recent.at(-1)!), { code: 4001, reason: "bye", closedBy: "server" });
  });

  test("with echoes queued, the close waits for the drain", async () => {
    const { peer, session } = setup({ peer: new QueueLosingPeer() });
    peer.status = "queued";
    session.receive("one");
    session.close(1001, "server shutting down");
    await sleep(10);
    assert.deepEqual(peer.closes, [], "the queue is not written yet");
    peer.buffered = 0;
    session.drained();
    assert.deepEqual(peer.closes, [], "not inside the runtime's drain handler");
    await sleep(10);
    assert.deepEqual(peer.closes, [{ code: 1001, reason: "server shutting down" }]);
    session.closed(1001, "server shutting down");
  });

  test("a queue not written in CLOSE_TIMEOUT_MS: cut, and recorded as 1006 with the close not sent", {
    timeout: 15_000,
  }, async () => {
    const { peer, session, registry, events } = setup({ peer: new QueueLosingPeer() });
    peer.status = "queued";
    session.receive("one");
    session.close(4001, "bye");
    await sleep(CLOSE_TIMEOUT_MS - 1_000);
    assert.deepEqual(peer.calls.filter((call) => call === "terminate"), []);
    await sleep(1_500);
    assert.deepEqual(peer.closes, []);
    assert.deepEqual(peer.calls.filter((call) => call === "terminate"), ["terminate"]);
    session.closed(1006, "");
    const expected = {
      code: 1006,
      reason: `close 4001 not sent: echoes still queued after ${CLOSE_TIMEOUT_MS} ms`,
      closedBy: "server",
    };
    assert.deepEqual(pick(registry.recent.at(-1)!), expected);
    assert.deepEqual(pick(events.findLast((e) => e.event === "close") as never), expected);
  });

  test("a client that leaves while the close waits is recorded as it left: the server's frame never went", async () => {
    const { peer, session, registry } = setup({ peer: new QueueLosingPeer() });
    peer.status = "queued";
    session.receive("one");
    session.close(4001, "bye");
    session.closed(1006, "");
    assert.deepEqual(pick(registry.recent.at(-1)!), { code: 1006, reason: "", closedBy: "network" });
    await sleep(10);
    assert.deepEqual(peer.closes, []);
  });

  test("a close frame still queued when the runtime reports the socket closed is recorded as 1006", () => {
    const { session, registry } = setup({ peer: new PausingPeer() });
    session.close(4001, "bye");
    session.closed(4001, "bye", { closeUnwritten: true });
    assert.deepEqual(pick(registry.recent.at(-1)!), {
      code: 1006,
      reason: "close 4001 not written: still queued when the runtime closed the socket",
      closedBy: "server",
    });
  });

  test("closeUnwritten on a close the client started changes nothing", () => {
    const { session, registry } = setup({ peer: new PausingPeer() });
    session.closed(1000, "done", { closeUnwritten: true });
    assert.deepEqual(pick(registry.recent.at(-1)!), { code: 1000, reason: "done", closedBy: "client" });
  });
});

describe("EchoSession: a paused peer is resumed after PAUSE_PROBE_MS (Bun hides a paused client's leaving)", () => {
  test("without a drain, the peer is resumed once; a later queued echo pauses it again", {
    timeout: 15_000,
  }, async () => {
    const { peer, session } = setup({ peer: new PausingPeer() });
    peer.status = "queued";
    session.receive("one");
    session.receive("two");
    assert.deepEqual(peer.calls, ["pause", "pause"]);
    await sleep(PAUSE_PROBE_MS - 500);
    assert.deepEqual(peer.calls, ["pause", "pause"]);
    await sleep(1_000);
    assert.deepEqual(peer.calls, ["pause", "pause", "resume"], "one probe for both pauses");
    session.receive("three");
    assert.deepEqual(peer.calls, ["pause", "pause", "resume", "pause"]);
    session.closed(1006, "");
    await sleep(PAUSE_PROBE_MS + 500);
    assert.deepEqual(peer.calls, ["pause", "pause", "resume", "pause"], "closed() stops the probe");
  });

  test("a drain before PAUSE_PROBE_MS resumes at once and stops the probe", { timeout: 15_000 }, async () => {
    const { peer, session } = setup({ peer: new PausingPeer() });
    peer.status = "queued";
    session.receive("one");
    session.drained();
    await sleep(PAUSE_PROBE_MS + 500);
    assert.deepEqual(peer.calls, ["pause", "resume"]);
    session.closed(1000, "");
  });
});

/** The fields of a close record or log line that say how it ended. */
function pick(record: { code: unknown; reason: unknown; closedBy: unknown }) {
  return { code: record.code, reason: record.reason, closedBy: record.closedBy };
}

describe("EchoSession: keepalive", () => {
  const IDLE = 10_000;

  test("a silent peer is pinged once at half the idle time", () => {
    const { peer, session } = setup({ peer: new PausingPeer() });
    const start = Date.now();
    session.keepalive(start + IDLE / 2 - 1_000, IDLE);
    assert.deepEqual(peer.calls, [], "not before half");
    session.keepalive(start + IDLE / 2 + 1_000, IDLE);
    session.keepalive(start + IDLE / 2 + 200, IDLE);
    assert.deepEqual(peer.calls, ["ping"], "one ping, not one per sweep");
    assert.deepEqual(peer.closes, []);
  });

  test("a silent peer is closed with 1001 at the idle time", () => {
    const { peer, session } = setup({ peer: new PausingPeer() });
    const start = Date.now();
    session.keepalive(start + IDLE / 2 + 1_000, IDLE);
    session.keepalive(start + IDLE + 1_000, IDLE);
    assert.equal(peer.closes.length, 1);
    assert.equal(peer.closes[0].code, 1001);
    assert.match(peer.closes[0].reason, /idle/);
  });

  test("hearing from the peer restarts the clock and allows a new ping", () => {
    const { peer, session } = setup({ peer: new PausingPeer() });
    session.keepalive(Date.now() + IDLE / 2 + 1_000, IDLE);
    session.heard();
    const heardAt = Date.now();
    session.keepalive(heardAt + IDLE / 2 - 1_000, IDLE);
    assert.deepEqual(peer.calls, ["ping"]);
    session.keepalive(heardAt + IDLE - 1_000, IDLE);
    assert.deepEqual(peer.calls, ["ping", "ping"]);
    assert.deepEqual(peer.closes, [], "an answering peer is kept");
  });

  test("a message counts as hearing from the peer", () => {
    const { peer, session } = setup({ peer: new PausingPeer() });
    session.keepalive(Date.now() + IDLE / 2 + 1_000, IDLE);
    session.receive("alive");
    session.keepalive(Date.now() + IDLE - 1_000, IDLE);
    assert.deepEqual(peer.closes, []);
  });

  test("a peer without ping (Deno pings natively) is still closed at the idle time", () => {
    const { peer, session } = setup();
    session.keepalive(Date.now() + IDLE / 2 + 1_000, IDLE);
    session.keepalive(Date.now() + IDLE + 1_000, IDLE);
    assert.equal(peer.closes[0]?.code, 1001);
  });

  test("a closing session is terminated once the closing handshake takes longer than CLOSE_TIMEOUT_MS", () => {
    const { peer, session } = setup({ peer: new PausingPeer() });
    session.close(1001, "bye");
    const closedAt = Date.now();
    session.keepalive(closedAt + CLOSE_TIMEOUT_MS - 1_000, IDLE);
    assert.deepEqual(peer.calls, [], "not before the timeout");
    session.keepalive(closedAt + CLOSE_TIMEOUT_MS + 1_000, IDLE);
    assert.deepEqual(peer.calls, ["terminate"]);
    assert.equal(peer.closes.length, 1, "no second close frame");
  });

  test("a session closed for idleness is terminated when the peer does not answer the close", () => {
    const { peer, session } = setup({ peer: new PausingPeer() });
    const idleAt = Date.now() + IDLE + 1_000;
    session.keepalive(idleAt, IDLE);
    assert.equal(peer.closes.length, 1);
    session.keepalive(idleAt + CLOSE_TIMEOUT_MS + 1_000, IDLE);
    assert.ok(peer.calls.includes("terminate"), peer.calls.join());
    assert.ok(!peer.calls.includes("ping"));
  });

  test("a closing session on a peer without terminate is left to the runtime", () => {
    const { peer, session } = setup();
    session.close(1001, "bye");
    assert.doesNotThrow(() => session.keepalive(Date.now() + CLOSE_TIMEOUT_MS + 1_000, IDLE));
    assert.equal(peer.closes.length, 1);
  });
});

describe("EchoSession: failures", () => {
  test("closes with 1011 when the peer's send throws, logs, and counts nothing as sent", () => {
    const { peer, context, connection, session, events } = setup();
    peer.failSend = new Error("socket broke");
    session.receive("hello");
    assert.deepEqual(peer.closes, [{ code: 1011, reason: "internal error" }]);
    assert.deepEqual(peer.sends, []);
    assert.deepEqual(receivedTraffic(connection), { messages: 1, bytes: 5 });
    assert.deepEqual(sentTraffic(connection), { messages: 0, bytes: 0 });
    assert.deepEqual(totals(context).received, { messages: 1, bytes: 5 });
    assert.deepEqual(totals(context).sent, { messages: 0, bytes: 0 });
    const failure = events.find((e) => e.event === "failure");
    assert.equal(failure?.level, "error");
    assert.equal(failure?.id, connection.id);
    assert.equal(failure?.error, "Error: socket broke");
  });

  test("a failed send closes the session: later messages are not echoed", () => {
    const { peer, session } = setup();
    peer.failSend = new Error("once");
    session.receive("a");
    peer.failSend = null;
    session.receive("b");
    assert.deepEqual(peer.sends, []);
    assert.equal(peer.closes.length, 1);
  });

  test("does not throw when the peer's close throws too", () => {
    const { peer, session } = setup();
    peer.failSend = new Error("send broke");
    peer.failClose = new Error("close broke");
    assert.doesNotThrow(() => session.receive("x"));
    assert.deepEqual(peer.closes, [{ code: 1011, reason: "internal error" }]);
  });

  test("close() forwards the code and reason to the peer once", () => {
    const { peer, session } = setup();
    session.close(1001, "going away");
    session.close(1000, "again");
    assert.deepEqual(peer.closes, [{ code: 1001, reason: "going away" }]);
  });

  test("close() swallows the peer's failure", () => {
    const { peer, session } = setup();
    peer.failClose = new Error("already closed");
    assert.doesNotThrow(() => session.close(1000, ""));
    assert.equal(peer.closes.length, 1);
  });
});

describe("EchoSession: closed()", () => {
  test('after a server close records closedBy "server", leaves the hub and logs the close', () => {
    const { context, registry, connection, session, events } = setup();
    session.receive("abc");
    session.close(1001, "going away");
    session.closed(1001, "going away");
    assert.equal(context.hub.sessions.length, 0);
    assert.equal(registry.recent.length, 1);
    const closed = registry.recent[0];
    assert.equal(closed.id, connection.id);
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1001, "going away", "server"]);
    assert.equal(registry.closes.get(1001), 1);
    const close = events.find((e) => e.event === "close");
    assert.ok(close);
    assert.equal(typeof close.durationMs, "number");
    assert.deepEqual({ ...close, time: 0, durationMs: 0 }, {
      time: 0,
      level: "info",
      event: "close",
      id: connection.id,
      tag: "s",
      remote: "127.0.0.1",
      protocol: "chat",
      extensions: "",
      code: 1001,
      reason: "going away",
      closedBy: "server",
      durationMs: 0,
      messagesIn: 1,
      bytesIn: 3,
      messagesOut: 1,
      bytesOut: 3,
    });
  });

  test('after a failed send records closedBy "server" with 1011', () => {
    const { peer, registry, session } = setup();
    peer.failSend = new Error("boom");
    session.receive("x");
    session.closed(1011, "internal error");
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1011, "internal error", "server"]);
  });

  test('an oversize message is closedBy "server" with 1009', () => {
    const { registry, session } = setup({ config: { maxMessageBytes: 1 } });
    session.receive("xx");
    session.closed(1009, "too big");
    assert.equal(registry.recent[0].closedBy, "server");
  });

  test('a server close that ends uncleanly is still closedBy "server"', () => {
    const { registry, session } = setup();
    session.close(1000, "");
    session.closed(1006, "");
    assert.equal(registry.recent[0].closedBy, "server");
  });

  test('a clean close the server did not start records closedBy "client"', () => {
    const { registry, session } = setup();
    session.closed(1000, "bye");
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1000, "bye", "client"]);
  });

  test('an unclean end the server did not start records closedBy "network"', () => {
    const { registry, session } = setup();
    session.closed(1006, "");
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1006, "", "network"]);
  });

  test("records the close frame Echo sent, whatever the runtime reports of the answer", () => {
    const { peer, registry, session, events } = setup();
    session.close(4002, "bye from echo");
    assert.equal(peer.closes.length, 1);
    // Deno reports the client's answer: here a close frame without a code.
    session.closed(1005, "");
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [4002, "bye from echo", "server"]);
    assert.equal(registry.closes.get(4002), 1);
    assert.equal(registry.closes.get(1005), undefined);
    const close = events.find((e) => e.event === "close")!;
    assert.deepEqual([close.code, close.reason, close.closedBy], [4002, "bye from echo", "server"]);
  });

  test("a close frame of Echo's that the runtime lost (it reports 1006) is recorded as 1006 by the server", () => {
    const { registry, session } = setup();
    session.close(1001, "going away");
    session.closed(ABNORMAL, "");
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1006, "", "server"]);
  });

  test("a runtime that reports the close from within close() (Bun) gets Echo's frame recorded", () => {
    const { peer, registry, session } = setup();
    peer.close = (code, reason) => {
      peer.closes.push({ code, reason });
      session.closed(code, reason);
    };
    session.close(4003, "reported at once");
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [4003, "reported at once", "server"]);
  });

  test("a close the runtime sent itself is recorded with its code and reason, by the server", () => {
    const { registry, session } = setup();
    session.closed(1001, "Server shutting down", BY_RUNTIME);
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1001, "Server shutting down", "server"]);
  });

  test("a close Echo asked for but the peer refused (its runtime was closing it) records the runtime's", () => {
    const { peer, registry, session } = setup();
    peer.failClose = new Error("the runtime is closing this socket itself");
    session.close(1001, "server shutting down");
    session.closed(1001, "Server shutting down", BY_RUNTIME);
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1001, "Server shutting down", "server"]);
  });

  test("a client's close frame that came before Echo's (still waiting for a quiet client) is the client's", () => {
    const { peer, registry, session } = setup({ peer: new LateInputPeer() });
    session.close(1001, "going away");
    assert.equal(peer.closes.length, 0, "Deno's close frame waits for the client to pause");
    session.closed(4001, "client first");
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [4001, "client first", "client"]);
  });

  test("a TCP end while Echo's close frame still waits is the network's, with 1006", () => {
    const { registry, session } = setup({ peer: new LateInputPeer() });
    session.close(1001, "going away");
    session.closed(ABNORMAL, "");
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1006, "", "network"]);
  });

  test("a close frame without a code from the client is 1005, by the client", () => {
    const { registry, session } = setup();
    session.closed(1005, "");
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1005, "", "client"]);
  });

  test("a second closed() is ignored: one recent record, one log line", () => {
    const { registry, session, events } = setup();
    session.closed(1000, "bye");
    session.closed(1006, "");
    assert.deepEqual(registry.recent.map((c) => c.code), [1000]);
    assert.equal(registry.totals([]).connections, 1);
    assert.equal(events.filter((e) => e.event === "close").length, 1);
  });

  test("the last session to close empties the hub for shutdown", async () => {
    const first = setup();
    const { context, session } = first;
    const second = setup({ on: first }).session;
    const empty = context.hub.whenEmpty(60_000);
    session.closed(1000, "");
    assert.equal(context.hub.sessions.length, 1);
    second.closed(1000, "");
    assert.equal(await empty, true);
  });
});

describe("EchoSession: isolation", () => {
  test("sessions on one context do not affect each other", () => {
    const one = setup();
    const two = setup({ on: one });
    one.peer.failSend = new Error("one only");
    one.session.receive("x");
    two.session.receive("y");
    assert.deepEqual(two.peer.closes, []);
    assert.deepEqual(two.peer.sends, [{ message: "y", compress: false }]);
    one.session.closed(1011, "internal error");
    two.session.closed(1000, "");
    const registry = one.registry;
    assert.deepEqual(registry.recent.map((c) => [c.id, c.closedBy]), [[1, "server"], [2, "client"]]);
    assert.equal(registry.totals([]).connections, 2);
  });
});

describe("openSession: the message log of a tagged connection", () => {
  function open(url: string, on = testContext()) {
    const { context } = on;
    const connection = captureConnection(new Request(url), {
      id: context.registry.nextId(),
      remoteAddress: "127.0.0.1",
      protocol: undefined,
      extensions: "",
    });
    const peer = new FakePeer();
    return { peer, connection, session: openSession(peer, connection, context), context };
  }

  test("an untagged connection gets a plain EchoSession and keeps no log", () => {
    const { session, connection } = open("http://echo.test/");
    assert.equal(Object.getPrototypeOf(session), EchoSession.prototype);
    session.receive("hello");
    assert.equal("messageLog" in connection, false, "no field at all on an untagged record");
  });

  test("a tagged connection logs what it received and sent, until and after it closes", () => {
    const { session, connection, peer } = open("http://echo.test/?tag=t");
    assert.ok(session instanceof LoggedSession);
    session.receive("hello");
    session.receiveOwned(new Uint8Array([1, 2, 3]));
    assert.equal(peer.sends.length, 2, "echoed as ever");
    const log = connection.messageLog!;
    assert.deepEqual(log.report().messages.map((m) => [m.direction, m.type, m.bytes, m.preview]), [
      ["received", "text", 5, "hello"],
      ["sent", "text", 5, "hello"],
      ["received", "binary", 3, "AQID"],
      ["sent", "binary", 3, "AQID"],
    ]);
    session.closed(1000, "");
    assert.equal(log.closed, true, "a closed log may give its place to a newer one");
    assert.equal(log.report().logged, 4, "the closed record keeps its log");
  });

  test("an echo the runtime dropped is logged as received only", () => {
    const { session, connection, peer } = open("http://echo.test/?tag=t");
    peer.status = "dropped";
    session.receive("lost");
    assert.deepEqual(connection.messageLog!.report().messages.map((m) => m.direction), ["received"]);
  });

  test("once the process holds its limit of live logs, a tagged connection echoes without one", () => {
    const on = testContext();
    for (let i = 0; i < on.context.messageLogs.limit; i++) open(`http://echo.test/?tag=t${i}`, on);
    const { session, connection } = open("http://echo.test/?tag=late", on);
    assert.equal(Object.getPrototypeOf(session), EchoSession.prototype);
    assert.equal(connection.messageLog, undefined);
  });
});
