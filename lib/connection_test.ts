import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { captureConnection, countReceived, countSent, receivedTraffic, sentTraffic } from "./connection.ts";
import { NO_TRAFFIC, testConnection } from "./testing_context.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

describe("captureConnection", () => {
  test("captures every fact of the handshake", () => {
    const request = new Request("http://echo.test:8181/room/1?tag=mine&x=1", {
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": KEY,
        origin: "https://example.org",
        "user-agent": "test-agent/1.0",
        "sec-websocket-extensions": "permessage-deflate; client_max_window_bits",
        "sec-websocket-protocol": "chat,superchat",
      },
    });
    const before = Date.now();
    const connection = captureConnection(request, {
      id: 7,
      remoteAddress: "192.0.2.1",
      protocol: "chat",
      extensions: "permessage-deflate; client_no_context_takeover",
    });
    const after = Date.now();
    assert.ok(connection.openedAt >= before && connection.openedAt <= after, String(connection.openedAt));
    assert.deepEqual({ ...connection, openedAt: 0 }, {
      id: 7,
      tag: "mine",
      path: "/room/1",
      query: "tag=mine&x=1",
      remoteAddress: "192.0.2.1",
      openedAt: 0,
      request: {
        origin: "https://example.org",
        userAgent: "test-agent/1.0",
        key: KEY,
        extensions: "permessage-deflate; client_max_window_bits",
        protocol: "chat,superchat",
      },
      protocol: "chat",
      extensions: "permessage-deflate; client_no_context_takeover",
      knobs: {},
      ...NO_TRAFFIC,
    });
  });

  test('gives null for absent headers, "" for no key and for no subprotocol', () => {
    const connection = captureConnection(new Request("http://echo.test/"), {
      id: 1,
      remoteAddress: "::1",
      protocol: undefined,
      extensions: "",
    });
    assert.deepEqual(connection.request, {
      origin: null,
      userAgent: null,
      key: "",
      extensions: null,
      protocol: null,
    });
    assert.equal(connection.protocol, "");
    assert.equal(connection.tag, null);
    assert.equal(connection.path, "/");
    assert.equal(connection.remoteAddress, "::1");
  });

  test("keeps the protocol header exactly as received, not as selected", () => {
    const request = new Request("http://echo.test/", {
      headers: { "sec-websocket-protocol": "chat, superchat" },
    });
    const connection = captureConnection(request, {
      id: 1,
      remoteAddress: "a",
      protocol: "chat",
      extensions: "",
    });
    assert.equal(connection.request.protocol, "chat, superchat");
    assert.equal(connection.protocol, "chat");
  });

  test("decodes the tag and takes the first of several", () => {
    const capture = (url: string) =>
      captureConnection(new Request(url), { id: 1, remoteAddress: "a", protocol: undefined, extensions: "" })
        .tag;
    assert.equal(capture("http://echo.test/?tag=a%20b"), "a b");
    assert.equal(capture("http://echo.test/?tag=%C3%A9"), "é");
    assert.equal(capture("http://echo.test/?tag=one&tag=two"), "one");
    assert.equal(capture("http://echo.test/?tag="), "");
    assert.equal(capture("http://echo.test/?tags=x"), null);
  });

  test("takes the path without the query", () => {
    const connection = captureConnection(new Request("http://echo.test/a/b/?tag=x"), {
      id: 1,
      remoteAddress: "a",
      protocol: undefined,
      extensions: "",
    });
    assert.equal(connection.path, "/a/b/");
  });
});

describe("countReceived and countSent", () => {
  test("count messages and bytes in each direction apart", () => {
    const connection = testConnection();
    countReceived(connection, 5);
    countReceived(connection, 6);
    countSent(connection, 5);
    countSent(connection, 0);
    assert.deepEqual(receivedTraffic(connection), { messages: 2, bytes: 11 });
    assert.deepEqual(sentTraffic(connection), { messages: 2, bytes: 5 });
  });
});
