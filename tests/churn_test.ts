/**
 * Issue #33, "Truth at the edges": clients that abort at random points (mid-frame, right after the 101,
 * during a deflated burst they do not read, as a ping arrives) leave `/info` and `/metrics` at 0 live
 * connections within 10 s of the last one leaving, with no idle sweep to help. On Bun a client that left
 * while Echo had paused reading it stayed live for good (docs/limits.md, "Paused clients that leave, Bun").
 * The long soak is `tests/support/churn.ts` run alone.
 *
 * The servers are real processes and the clients raw sockets, so the runner that drives them changes
 * nothing here: this soak runs once, under `bun test`, and is not registered under `deno test` (neither
 * run nor counted there), which keeps `npm test` short.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { churn } from "./support/churn.ts";

const UNDER_BUN_TEST = process.versions.bun !== undefined;

for (const entry of UNDER_BUN_TEST ? ENTRIES : []) {
  describe(`churn with aborted clients on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () =>
      server = await startServer(entry, { env: { IDLE_TIMEOUT_SECONDS: "0", LOG_LEVEL: "warn" } })
    );
    after(() => server.stop());

    test("15 s of aborting clients: 0 live in /info and /metrics within 10 s of the last leaving", {
      timeout: 60_000,
    }, async () => {
      const result = await churn(server.port, {
        count: 4000,
        seconds: 15,
        concurrency: 50,
        // Deno refuses ping_ms (it cannot ping).
        pingMs: entry.name === "deno" ? 0 : 100,
      });
      assert.ok(result.clients >= 500, `only ${result.clients} clients in ${result.ms} ms`);
      assert.ok(
        result.settledMs >= 0,
        `still live 10 s after the last client left: ${JSON.stringify(result)}`,
      );
    });
  });
}
