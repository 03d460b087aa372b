/**
 * The README's configuration table says what `--help` says: the same options, the same defaults. The help
 * text comes from lib/config.ts's one table; the README is written by hand, so this keeps the two agreeing.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { helpText } from "../lib/config.ts";
import { ROOT } from "./support/server.ts";

/** `ENV` → the default as a string, from the help's `ENV: meaning (default X)` lines. */
function helpDefaults(): Map<string, string> {
  const found = [...helpText("echo").matchAll(/^\s+([A-Z_]+): .*\(default (.+)\)$/gm)];
  return new Map(found.map(([, env, value]) => [env, value]));
}

/** `ENV` → the default column of the README's table (`16 MiB` read as bytes, backticks dropped). */
function readmeDefaults(): Map<string, string> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const rows = [...readme.matchAll(/^\| `--[a-z-]+` +\| `([A-Z_]+)` +\| ([^|]+?) +\|/gm)];
  return new Map(rows.map(([, env, value]) => {
    const mib = /^(\d+) MiB$/.exec(value);
    return [env, mib ? String(Number(mib[1]) * 1024 * 1024) : value.replaceAll("`", "")];
  }));
}

describe("the README's configuration table", () => {
  test("names every option --help names, with the same default", () => {
    const help = helpDefaults();
    assert.ok(help.size >= 19, `read ${help.size} options from --help`);
    assert.deepEqual(Object.fromEntries(readmeDefaults()), Object.fromEntries(help));
  });

  test("says threads for WORKERS, as --help does: Bun's --workers starts threads, not processes", () => {
    assert.match(helpText("echo"), /WORKERS: Bun: threads sharing the port/);
  });
});
