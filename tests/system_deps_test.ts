/**
 * `npm test`'s pretest (scripts/system-deps.sh) on a machine without apt: one line naming what the tests
 * need and how to get it, exit 1, rather than an apt error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/server.ts";

test("without apt-get, system-deps names the missing tools on one line and exits 1", () => {
  // A PATH with nothing on it: no apt-get, dpkg-query, nginx, redis-server…
  const empty = mkdtempSync(join(tmpdir(), "echo-no-apt-"));
  try {
    const result = spawnSync("/bin/bash", [`${ROOT}scripts/system-deps.sh`], {
      env: { PATH: empty },
      encoding: "utf8",
    });
    assert.equal(result.status, 1, result.stderr);
    assert.equal(result.stdout, "");
    const lines = result.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0],
      /^system-deps: no apt-get here, and the tests need: .*\bnginx\b.*\bredis-server\b/,
    );
    assert.match(lines[0], /install them with your package manager/);
  } finally {
    rmSync(empty, { recursive: true });
  }
});
