import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { selectSubprotocol } from "./subprotocol.ts";

/** The header's value as a request carrying it gives it (`null` for no header). */
function offering(protocol: string | undefined): string | null {
  const headers: Record<string, string> = protocol === undefined
    ? {}
    : { "sec-websocket-protocol": protocol };
  return new Request("http://echo.test/", { headers }).headers.get("sec-websocket-protocol");
}

describe("selectSubprotocol", () => {
  test("selects the first protocol offered, whatever the spacing", () => {
    assert.equal(selectSubprotocol(offering("chat,superchat")), "chat");
    assert.equal(selectSubprotocol(offering("chat, superchat")), "chat");
    assert.equal(selectSubprotocol(offering("chat ,  superchat")), "chat");
    assert.equal(selectSubprotocol(offering("superchat, chat")), "superchat");
  });

  test("selects a single protocol", () => {
    assert.equal(selectSubprotocol(offering("v2.echo")), "v2.echo");
  });

  test("keeps the case the client used", () => {
    assert.equal(selectSubprotocol(offering("Chat")), "Chat");
  });

  test("gives undefined when none is offered", () => {
    assert.equal(selectSubprotocol(offering(undefined)), undefined);
    assert.equal(selectSubprotocol(offering("")), undefined);
    assert.equal(selectSubprotocol(offering(" , ")), undefined);
  });

  test("skips empty elements before the first protocol", () => {
    assert.equal(selectSubprotocol(offering(", chat")), "chat");
  });

  test("sees several header lines as one list", () => {
    const headers = new Headers();
    headers.append("sec-websocket-protocol", "one");
    headers.append("sec-websocket-protocol", "two");
    const offer = new Request("http://echo.test/", { headers }).headers.get("sec-websocket-protocol");
    assert.equal(selectSubprotocol(offer), "one");
  });

  for (const bad of ["a b", "chat, a;b", 'chat, "quoted"', "chat, a/b", "é"]) {
    test(`throws a SyntaxError for ${JSON.stringify(bad)}`, () => {
      assert.throws(() => selectSubprotocol(offering(bad)), SyntaxError);
    });
  }

  test("names the offending element, cut to 40 characters", () => {
    assert.throws(() => selectSubprotocol(offering("chat, a b")), { message: '"a b" is not a token' });
    const long = `x y${"z".repeat(100)}`;
    assert.throws(() => selectSubprotocol(offering(long)), {
      message: `${JSON.stringify(long.slice(0, 40))} is not a token`,
    });
  });

  test("refuses an invalid element even after a valid first one", () => {
    assert.throws(() => selectSubprotocol(offering("chat, bad protocol")), SyntaxError);
  });
});
