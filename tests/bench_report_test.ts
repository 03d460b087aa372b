/**
 * What `npm run bench` prints on a terminal (bench/report.ts's terminalSummary): lines of at most 120
 * characters whatever the servers, and no range where there is a single sample ("0.760× (0.760–0.760)").
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { COLUMNS, emptyRow, PAIRS, type Row, summarise, terminalSummary } from "../bench/report.ts";

/** A row with `samples` samples of every figure, all `value` when `same`. */
function row(name: string, samples: number, value: number, same = false): Row {
  const r = emptyRow(name);
  for (const c of COLUMNS) {
    r.figures[c.key] = Array.from({ length: samples }, (_, k) => same ? value : value * (1 + k / 10));
  }
  return r;
}

const NAMES = [...new Set(PAIRS.flat()), "Node ws"];

describe("the bench's terminal summary", () => {
  test("fits 120 columns with every server, one sample or several", () => {
    for (const samples of [1, 3]) {
      const lines = terminalSummary(summarise(NAMES.map((name) => row(name, samples, 1_234_567.891))));
      for (const line of lines) assert.ok(line.length <= 120, `${line.length}: ${line}`);
      assert.match(lines[0], /^Echo ÷ bare/);
      assert.ok(lines.some((line) => line.startsWith("32 B msg/s")));
    }
  });

  test("with no pair (--only bare), each server's medians, still within 120 columns", () => {
    const lines = terminalSummary(
      summarise(["bare Bun", "bare Deno", "Node ws"].map((n) => row(n, 3, 9_876_543))),
    );
    for (const line of lines) assert.ok(line.length <= 120, `${line.length}: ${line}`);
    assert.match(lines[0], /^Each server/);
  });

  test("a range only where the samples differ", () => {
    const one = terminalSummary(summarise([row("Echo on Bun", 1, 0.76), row("bare Bun", 1, 1)]))
      .filter((line) => line.startsWith("32 B msg/s"));
    assert.match(one[0], /^32 B msg\/s +0\.760×$/);
    const several = terminalSummary(summarise([row("Echo on Bun", 3, 1), row("bare Bun", 3, 1, true)]));
    assert.match(several.join("\n"), /1\.100× \(1\.000–1\.200\)/);
  });
});
