import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";
import { CLIENTS } from "./support/clients.ts";
import { FAULT_TRIGGER } from "./fixtures/faulty_peer.ts";

for (const entry of ENTRIES) {
  describe(`a fault on ${entry.name} stays inside its connection`, () => {
    let server: RunningServer;
    before(async () =>
      server = await startServer(entry, { script: `tests/fixtures/faulty_${entry.name}.ts` })
    );
    after(() => server.stop());

    test("the failing connection is closed with 1011; a parallel one keeps echoing", async () => {
      const bystander = await RawClient.open(server.port, handshakeHeaders());
      const victim = await RawClient.open(server.port, handshakeHeaders());
      victim.send({ opcode: OP.TEXT, payload: "fine" });
      assert.equal(new TextDecoder().decode((await victim.next())?.payload), "fine");
      victim.send({ opcode: OP.TEXT, payload: FAULT_TRIGGER });
      const close = await victim.next();
      assert.equal(close?.opcode, OP.CLOSE);
      assert.equal(parseClose(close!.payload).code, 1011);
      victim.destroy();

      bystander.send({ opcode: OP.TEXT, payload: "still here" });
      assert.equal(new TextDecoder().decode((await bystander.next())?.payload), "still here");
      bystander.destroy();
    });

    for (const client of CLIENTS) {
      test(`after the fault, a new ${client.name} connection still echoes`, async () => {
        const { received } = await client.exchange(`${server.ws}/`, ["after the fault"]);
        assert.deepEqual(received, [{ type: "text", data: "after the fault" }]);
      });
    }

    test("the fault was logged for the operator", () => {
      assert.match(server.output(), /injected fault/);
    });
  });
}
