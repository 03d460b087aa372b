import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENTRIES, type RunningServer, startServer } from "./support/server.ts";
import { CASES } from "./conformance/suite.ts";
import { KNOWN_DEFECTS } from "./conformance/defects.ts";
import { details, type Result, runCases, table } from "./conformance/runner.ts";

const CONCURRENCY = 6;

for (const entry of ENTRIES) {
  describe(`RFC 6455 / RFC 7692 conformance of ${entry.name}`, () => {
    let server: RunningServer;
    let results: Result[] = [];
    before(async () => server = await startServer(entry));
    after(async () => {
      await server.stop();
      console.log(`\nConformance of the ${entry.name} entry (${results.length} cases):\n${table(results)}\n`);
      const notes = details(results);
      if (notes) console.log(notes);
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
