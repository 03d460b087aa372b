import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { ENTRIES, logLines, rssBytes, type RunningServer, startServer } from "./support/server.ts";
import { encodeFrame, handshakeHeaders, OP, parseClose, RawClient } from "./support/raw.ts";
import { nodeWs } from "./support/clients.ts";

const MIB = 1024 * 1024;
const MESSAGE = 64 * 1024;
const TOTAL = 200 * 1000 * 1000;
const COUNT = Math.ceil(TOTAL / MESSAGE);
/** Server memory growth allowed while a client floods without reading (stated in docs/limits.md). */
export const GROWTH_BOUND = { bun: 48 * MIB, deno: 96 * MIB } as const;

function numbered(i: number): Uint8Array {
  const payload = new Uint8Array(MESSAGE);
  new DataView(payload.buffer).setUint32(0, i);
  payload.fill(i & 0xff, 4);
  return payload;
}

/**
 * Writes numbered frames from `from` on, respecting the socket's own backpressure, until all are
 * written or `until` settles; resolves with the number of the next frame to write.
 */
function flood(client: RawClient, options: { from: number; until: Promise<unknown> }): Promise<number> {
  return new Promise((resolve) => {
    let i = options.from;
    let stopped = false;
    options.until.then(() => {
      stopped = true;
      client.socket.off("drain", pump);
      resolve(i);
    });
    const pump = () => {
      while (i < COUNT && client.socket.writable && !stopped) {
        if (!client.socket.write(encodeFrame({ opcode: OP.BINARY, payload: numbered(i++) }))) {
          client.socket.once("drain", pump);
          return;
        }
      }
      resolve(i);
    };
    pump();
  });
}

async function peakGrowth(pid: number, during: Promise<unknown>): Promise<number> {
  const base = await rssBytes(pid);
  let peak = base;
  let done = false;
  during.finally(() => done = true);
  while (!done) {
    peak = Math.max(peak, await rssBytes(pid).catch(() => peak));
    await sleep(50);
  }
  return peak - base;
}

for (const entry of ENTRIES) {
  describe(`a client that floods without reading, on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry));
    after(() => server.stop());

    if (entry.name === "bun") {
      test(
        `Bun stops reading it: memory grows < ${
          GROWTH_BOUND.bun / MIB
        } MiB, then every echo arrives in order`,
        { timeout: 120_000 },
        async () => {
          const client = await RawClient.open(server.port, handshakeHeaders());
          client.socket.pause();
          // Phase 1: push without reading until the server stops reading us (writes stall).
          const stalled = sleep(3000);
          const phase1 = flood(client, { from: 0, until: stalled });
          const growth1 = await peakGrowth(server.process.pid!, stalled);
          assert.ok(growth1 < GROWTH_BOUND.bun, `grew ${(growth1 / MIB).toFixed(1)} MiB while unread`);
          // Phase 2: read; the rest of the 200 MB flows and every echo comes back in order.
          client.socket.resume();
          const sentSoFar = await phase1;
          assert.ok(sentSoFar < COUNT, "the server pushed back before 200 MB were accepted");
          const rest = flood(client, { from: sentSoFar, until: new Promise(() => {}) });
          let expected = 0;
          while (expected < COUNT) {
            const frame = await client.next(30_000);
            assert.equal(frame?.opcode, OP.BINARY, `echo ${expected}`);
            assert.equal(new DataView(frame!.payload.buffer).getUint32(0), expected);
            assert.equal(frame!.payload.length, MESSAGE);
            // Echoes Bun queued were copied before Echo freed the received buffers (EchoSession.receiveOwned).
            assert.equal(frame!.payload[MESSAGE - 1], expected & 0xff, `echo ${expected}'s last byte`);
            expected++;
          }
          assert.equal(await rest, COUNT);
          client.destroy();
          const { received } = await nodeWs.exchange(`${server.ws}/`, ["after the flood"]);
          assert.deepEqual(received, [{ type: "text", data: "after the flood" }]);
        },
      );
    } else {
      test(
        `Deno: past MAX_BUFFERED_BYTES echoing stops, memory grows < ${
          GROWTH_BOUND.deno / MIB
        } MiB, then close 1008`,
        { timeout: 120_000 },
        async () => {
          const client = await RawClient.open(server.port, handshakeHeaders());
          client.socket.pause();
          // Deno reads everything it is sent; past the cap Echo stops echoing and, once the client has
          // read what was queued, closes with 1008 (a close frame queued behind unread echoes while the
          // client keeps sending would be abandoned by Deno).
          const stalled = sleep(8000);
          const sent = flood(client, { from: 0, until: stalled });
          const growth = await peakGrowth(server.process.pid!, Promise.race([sent, stalled]));
          assert.ok(growth < GROWTH_BOUND.deno, `grew ${(growth / MIB).toFixed(1)} MiB`);
          await sent;
          client.socket.resume();
          let echoed = 0;
          let frame = await client.next(30_000);
          for (; frame?.opcode === OP.BINARY; frame = await client.next(30_000)) {
            assert.equal(new DataView(frame.payload.buffer).getUint32(0), echoed++, "echoes come in order");
          }
          assert.equal(frame?.opcode, OP.CLOSE, `a close frame after ${echoed} echoes`);
          const { code, reason } = parseClose(frame!.payload);
          assert.equal(code, 1008);
          assert.match(reason, /not reading/);
          // The cap counts Deno's own queue; the kernel's socket buffers on both ends hold a few MiB more.
          assert.ok(echoed * MESSAGE >= 16 * MIB && echoed * MESSAGE <= 24 * MIB, `${echoed} echoes`);
          client.destroy();
          const overflow = logLines(server).find((line) => line.event === "overflow");
          assert.equal(overflow?.limit, 16 * MIB, "the overflow was logged with the limit");
          const { received } = await nodeWs.exchange(`${server.ws}/`, ["after the flood"]);
          assert.deepEqual(received, [{ type: "text", data: "after the flood" }]);
        },
      );
    }
  });
}
