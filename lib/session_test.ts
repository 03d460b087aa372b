import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { COMPRESS_MIN_BYTES } from "./compression.ts";
import { captureConnection, type Connection } from "./connection.ts";
import { Registry } from "./registry.ts";
import { EchoSession, INTERNAL_ERROR, type Message, type Peer } from "./session.ts";

/** A Peer that records what the session asked of it and can be told to fail. */
class FakePeer implements Peer {
  sends: Array<{ message: Message; compress: boolean }> = [];
  closes: Array<{ code: number; reason: string }> = [];
  failSend: Error | null = null;
  failClose: Error | null = null;

  send(message: Message, options: { compress: boolean }): void {
    if (this.failSend) throw this.failSend;
    this.sends.push({ message, compress: options.compress });
  }

  close(code: number, reason: string): void {
    this.closes.push({ code, reason });
    if (this.failClose) throw this.failClose;
  }
}

function setup(): { peer: FakePeer; registry: Registry; connection: Connection; session: EchoSession } {
  const registry = new Registry();
  const connection = captureConnection(new Request("http://echo.test/?tag=s"), {
    id: registry.nextId(),
    remoteAddress: "127.0.0.1",
    protocol: undefined,
  });
  const peer = new FakePeer();
  const session = new EchoSession(peer, connection, { registry });
  return { peer, registry, connection, session };
}

/** Runs `body` with console.error captured instead of printed. */
function capturingErrors(body: () => void): unknown[][] {
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    logged.push(args);
  };
  try {
    body();
  } finally {
    console.error = original;
  }
  return logged;
}

describe("EchoSession", () => {
  test("INTERNAL_ERROR is 1011", () => {
    assert.equal(INTERNAL_ERROR, 1011);
  });

  test("registers the connection as live on construction", () => {
    const { registry, connection, session } = setup();
    assert.equal(session.connection, connection);
    assert.equal(registry.live.get(connection.id), connection);
    assert.equal(registry.totals.connections, 1);
  });

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

  test("asks for compression by the COMPRESS_MIN_BYTES rule", () => {
    const { peer, session } = setup();
    session.receive("a".repeat(COMPRESS_MIN_BYTES - 1));
    session.receive("a".repeat(COMPRESS_MIN_BYTES));
    session.receive(new Uint8Array(COMPRESS_MIN_BYTES - 1));
    session.receive(new Uint8Array(COMPRESS_MIN_BYTES));
    session.receive("é".repeat(COMPRESS_MIN_BYTES / 2));
    assert.deepEqual(peer.sends.map((s) => s.compress), [false, true, false, true, true]);
  });

  test("counts what it received and sent", () => {
    const { registry, connection, session } = setup();
    session.receive("é€"); // 5 bytes
    session.receive(new Uint8Array(7));
    assert.deepEqual(connection.received, { messages: 2, bytes: 12 });
    assert.deepEqual(connection.sent, { messages: 2, bytes: 12 });
    assert.deepEqual(registry.totals.received, { messages: 2, bytes: 12 });
    assert.deepEqual(registry.totals.sent, { messages: 2, bytes: 12 });
  });

  test("closes with 1011 when the peer's send throws, and counts nothing as sent", () => {
    const { peer, registry, connection, session } = setup();
    const failure = new Error("socket broke");
    peer.failSend = failure;
    const logged = capturingErrors(() => session.receive("hello"));
    assert.deepEqual(peer.closes, [{ code: 1011, reason: "internal error" }]);
    assert.deepEqual(peer.sends, []);
    assert.deepEqual(connection.received, { messages: 1, bytes: 5 });
    assert.deepEqual(connection.sent, { messages: 0, bytes: 0 });
    assert.deepEqual(registry.totals.sent, { messages: 0, bytes: 0 });
    assert.equal(logged.length, 1);
    assert.ok(String(logged[0][0]).includes(`connection ${connection.id}`), String(logged[0][0]));
    assert.equal(logged[0][1], failure);
  });

  test("a failed send is contained: the session keeps working for later messages", () => {
    const { peer, session } = setup();
    peer.failSend = new Error("once");
    capturingErrors(() => session.receive("a"));
    peer.failSend = null;
    session.receive("b");
    assert.deepEqual(peer.sends, [{ message: "b", compress: false }]);
  });

  test("does not throw when the peer's close throws too", () => {
    const { peer, session } = setup();
    peer.failSend = new Error("send broke");
    peer.failClose = new Error("close broke");
    capturingErrors(() => session.receive("x"));
    assert.deepEqual(peer.closes, [{ code: 1011, reason: "internal error" }]);
  });

  test("close() forwards the code and reason to the peer", () => {
    const { peer, session } = setup();
    session.close(1001, "going away");
    assert.deepEqual(peer.closes, [{ code: 1001, reason: "going away" }]);
  });

  test("close() swallows the peer's failure", () => {
    const { peer, session } = setup();
    peer.failClose = new Error("already closed");
    session.close(1000, "");
    assert.equal(peer.closes.length, 1);
  });

  test('closed() after a server close records closedBy "server"', () => {
    const { registry, connection, session } = setup();
    session.close(1001, "going away");
    session.closed(1001, "going away", { clean: true });
    assert.equal(registry.live.size, 0);
    assert.equal(registry.recent.length, 1);
    const closed = registry.recent[0];
    assert.equal(closed.id, connection.id);
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1001, "going away", "server"]);
  });

  test('closed() after a failed send records closedBy "server" with 1011', () => {
    const { peer, registry, session } = setup();
    peer.failSend = new Error("boom");
    capturingErrors(() => session.receive("x"));
    session.closed(1011, "internal error", { clean: true });
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1011, "internal error", "server"]);
  });

  test('a server close that ends uncleanly is still closedBy "server"', () => {
    const { registry, session } = setup();
    session.close(1000, "");
    session.closed(1006, "", { clean: false });
    assert.equal(registry.recent[0].closedBy, "server");
  });

  test('a clean close the server did not start records closedBy "client"', () => {
    const { registry, session } = setup();
    session.closed(1000, "bye", { clean: true });
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1000, "bye", "client"]);
  });

  test('an unclean end the server did not start records closedBy "network"', () => {
    const { registry, session } = setup();
    session.closed(1006, "", { clean: false });
    const closed = registry.recent[0];
    assert.deepEqual([closed.code, closed.reason, closed.closedBy], [1006, "", "network"]);
  });

  test("sessions on one registry do not affect each other", () => {
    const registry = new Registry();
    const make = () => {
      const connection = captureConnection(new Request("http://echo.test/"), {
        id: registry.nextId(),
        remoteAddress: "a",
        protocol: undefined,
      });
      const peer = new FakePeer();
      return { peer, session: new EchoSession(peer, connection, { registry }) };
    };
    const one = make();
    const two = make();
    one.peer.failSend = new Error("one only");
    capturingErrors(() => one.session.receive("x"));
    two.session.receive("y");
    assert.deepEqual(two.peer.closes, []);
    assert.deepEqual(two.peer.sends, [{ message: "y", compress: false }]);
    one.session.closed(1011, "internal error", { clean: true });
    two.session.closed(1000, "", { clean: true });
    assert.deepEqual(registry.recent.map((c) => [c.id, c.closedBy]), [[1, "server"], [2, "client"]]);
    assert.equal(registry.totals.connections, 2);
  });
});
