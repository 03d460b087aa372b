import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { type RunningNginx, startNginx } from "./support/nginx.ts";
import { handshakeHeaders, OP, RawClient } from "./support/raw.ts";

// The client connects to nginx from 127.0.0.2 (all of 127/8 is loopback on Linux) while nginx
// connects to Echo from 127.0.0.1, so the two addresses Echo could report differ; and the
// client writes its own forwarding headers, which must never be believed.
const CLIENT = "127.0.0.2";
const SPOOFED = "6.6.6.6";

async function remoteAddressThrough(nginx: RunningNginx, tag: string): Promise<string> {
  const client = await RawClient.open(
    nginx.port,
    handshakeHeaders({ "X-Forwarded-For": SPOOFED, Forwarded: `for=${SPOOFED}` }),
    { path: `/?tag=${tag}`, localAddress: CLIENT },
  );
  assert.equal(client.response.status, 101, await nginx.errors());
  const info = await (await fetch(`http://127.0.0.1:${nginx.port}/info?tag=${tag}`)).json();
  client.send({ opcode: OP.CLOSE, payload: new Uint8Array([0x03, 0xe8]) });
  await client.ended();
  assert.equal(info.live.length, 1, JSON.stringify(info));
  return info.live[0].remoteAddress;
}

for (const entry of ENTRIES) {
  for (const trust of [undefined, "x-forwarded-for", "forwarded"]) {
    describe(`${entry.name} behind nginx, TRUST_PROXY=${trust ?? "unset"}`, () => {
      let server: RunningServer;
      let nginx: RunningNginx;
      before(async () => {
        server = await startServer(entry, { env: trust ? { TRUST_PROXY: trust } : {} });
        nginx = await startNginx(server.port);
      });
      after(async () => {
        await nginx?.stop();
        await server?.stop();
      });

      test("echoes text and binary through the proxy", async () => {
        const client = await RawClient.open(nginx.port, handshakeHeaders());
        assert.equal(client.response.status, 101);
        const binary = new Uint8Array(randomBytes(70_000));
        client.send({ opcode: OP.TEXT, payload: "héllo through nginx" });
        client.send({ opcode: OP.BINARY, payload: binary });
        const text = await client.next();
        const bytes = await client.next();
        assert.equal(text?.opcode, OP.TEXT);
        assert.equal(new TextDecoder().decode(text!.payload), "héllo through nginx");
        assert.equal(bytes?.opcode, OP.BINARY);
        assert.deepEqual(bytes!.payload, binary);
        client.send({ opcode: OP.CLOSE, payload: new Uint8Array([0x03, 0xe8]) });
        assert.equal((await client.next())?.opcode, OP.CLOSE);
      });

      test(
        trust
          ? "/info reports the client's address from the proxy's header, not the spoofed one"
          : "/info reports nginx's address and ignores forwarding headers",
        async () => {
          const address = await remoteAddressThrough(nginx, randomBytes(6).toString("hex"));
          assert.equal(address, trust ? CLIENT : "127.0.0.1");
        },
      );
    });
  }
}
