import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { ENTRIES, ROOT, type RunningServer, startServer } from "./support/server.ts";
import { CASES } from "./conformance/suite.ts";
import { KNOWN_DEFECTS } from "./conformance/defects.ts";
import { details, type Result, runCases, table } from "./conformance/runner.ts";

const CONCURRENCY = 6;
const RUNNER = "Bun" in globalThis ? "bun-test" : "deno-test";

for (const entry of ENTRIES) {
  describe(`RFC 6455 / RFC 7692 conformance of ${entry.name}`, () => {
    let server: RunningServer;
    let results: Result[] = [];
    before(async () => server = await startServer(entry));
    after(async () => {
      await server.stop();
      const report =
        `Conformance of the ${entry.name} entry (${results.length} cases):\n\n${table(results)}\n\n` +
        `${details(results)}\n`;
      console.log(`\n${report}`);
      // Kept for docs/conformance.md's tables (tests/artifacts/ is not committed).
      mkdirSync(`${ROOT}tests/artifacts`, { recursive: true });
      writeFileSync(`${ROOT}tests/artifacts/conformance-${entry.name}-${RUNNER}.md`, report);
    });

    test(`${CASES.length} cases: no unexpected result`, { timeout: 300_000 }, async () => {
      results = await runCases(server.port, CASES, {
        defects: KNOWN_DEFECTS[entry.name],
        concurrency: CONCURRENCY,
      });
      const failed = results.filter((r) => r.verdict === "failed");
      assert.deepEqual(failed.map((r) => `${r.case.id} ${r.case.title}`), []);
    });
  });
}

/** A non-empty binary message came back on this connection (or on the case's follow-up). */
const BINARY_ECHO = /^(then: )?binary (?!\(empty\))/;

for (const entry of ENTRIES) {
  describe(`the suite catches a broken echo on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () =>
      server = await startServer(entry, { script: `tests/fixtures/broken_${entry.name}.ts` })
    );
    after(() => server.stop());

    test(
      "an echo that flips one bit of binary messages fails exactly the cases that got binary back",
      { timeout: 300_000 },
      async () => {
        const defects = KNOWN_DEFECTS[entry.name];
        const results = await runCases(server.port, CASES, { defects, concurrency: CONCURRENCY });
        const failed = results.filter((r) => r.verdict === "failed").map((r) => r.case.id);
        const binary = results.filter((r) => r.trace.some((e) => BINARY_ECHO.test(e))).map((r) => r.case.id);
        assert.ok(failed.length >= 20, `only ${failed.length} failures`);
        assert.deepEqual(failed, binary);
      },
    );
  });
}
