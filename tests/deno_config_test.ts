import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { type Entry, ROOT, startServer } from "./support/server.ts";

const DENO = `${ROOT}node_modules/.bin/deno`;

/** Answers three requests, then asks the fixture how many of their signals aborted. */
async function abortedAfterSuccess(entry: Entry): Promise<number> {
  const server = await startServer(entry, { script: "tests/fixtures/request_signal_deno.ts" });
  try {
    for (let i = 0; i < 3; i++) assert.equal(await (await fetch(`${server.http}/`)).text(), "ok");
    await sleep(50);
    return Number(await (await fetch(`${server.http}/aborted`)).text());
  } finally {
    await server.stop();
  }
}

// Deno.serve aborts every request's signal once it has been answered ("legacy abort"), building a
// DOMException with a stack trace each time: ~20% of a WebSocket handshake's CPU, more with Echo's
// deeper stack. deno.json opts out (`"unstable": ["no-legacy-abort"]`), and Deno 2.9.4 ignored that
// entry (denoland/deno#36307), so this checks that the runtime in use honours it.
describe("deno.json", () => {
  test("opts Deno.serve out of aborting the signal of a request it answered", async () => {
    const configured = { name: "deno", command: (script?: string) => [DENO, "run", "--allow-net", script!] };
    assert.equal(await abortedAfterSuccess(configured), 0);
  });

  test("without it, the fixture sees the legacy abort (so the check above can fail)", async () => {
    const bare = {
      name: "deno",
      command: (script?: string) => [DENO, "run", "--no-config", "--allow-net", script!],
    };
    assert.equal(await abortedAfterSuccess(bare), 3);
  });
});
