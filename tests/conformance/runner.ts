/**
 * Runs the conformance cases against a server and judges each result: passed, non-strict
 * (a permitted variant), known runtime defect (exactly the recorded deviation), or failed —
 * which includes a known defect that no longer happens, so a runtime fix is noticed.
 *
 * @module
 */
import type { Case } from "./case.ts";
import type { KnownDefect } from "./defects.ts";
import type { Trace } from "./wire.ts";

/** How a case came out. */
export type Verdict = "passed" | "non-strict" | "known runtime defect" | "failed";

/** One case's outcome. */
export interface Result {
  case: Case;
  verdict: Verdict;
  trace: Trace;
  /** For non-strict: the variant's note; for a known defect: its reason; for failed: what went wrong. */
  note: string;
}

const same = (a: Trace, b: Trace) => a.length === b.length && a.every((e, i) => e === b[i]);

/** Judges one trace. */
export function judge(c: Case, trace: Trace, defect: KnownDefect | undefined): Result {
  const strict = c.expect.some((t) => same(t, trace));
  const variant = c.variants.find((v) => same(v.trace, trace));
  if (defect) {
    if (same(defect.instead, trace)) {
      return { case: c, verdict: "known runtime defect", trace, note: defect.reason };
    }
    const now = strict
      ? "now conforms"
      : variant
      ? "now behaves as a permitted variant"
      : "behaves differently";
    return {
      case: c,
      verdict: "failed",
      trace,
      note: `recorded as a known defect but ${now}: update defects.ts`,
    };
  }
  if (strict) return { case: c, verdict: "passed", trace, note: "" };
  if (variant) return { case: c, verdict: "non-strict", trace, note: variant.note };
  return { case: c, verdict: "failed", trace, note: `expected ${JSON.stringify(c.expect[0])}` };
}

/** Runs `cases` against `port`, `concurrency` at a time; slow cases start first. */
export async function runCases(
  port: number,
  cases: readonly Case[],
  options: { defects: ReadonlyMap<string, KnownDefect>; concurrency: number },
): Promise<Result[]> {
  const results = new Array<Result>(cases.length);
  let next = 0;
  async function worker() {
    while (next < cases.length) {
      const index = next++;
      const c = cases[index];
      let trace: Trace;
      try {
        trace = await c.run(port);
      } catch (error) {
        trace = [`harness error: ${(error as Error).message}`];
      }
      results[index] = judge(c, trace, options.defects.get(c.id));
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return results;
}

const VERDICTS: Verdict[] = ["passed", "non-strict", "known runtime defect", "failed"];

/** The per-group table, as Markdown. */
export function table(results: readonly Result[]): string {
  const groups = [...new Set(results.map((r) => r.case.group))];
  const count = (rs: readonly Result[], v: Verdict) => rs.filter((r) => r.verdict === v).length;
  const rows = groups.map((g) => {
    const rs = results.filter((r) => r.case.group === g);
    return [g, String(rs.length), ...VERDICTS.map((v) => String(count(rs, v)))];
  });
  rows.push(["**total**", String(results.length), ...VERDICTS.map((v) => String(count(results, v)))]);
  const head = ["group", "cases", ...VERDICTS];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [
    line(head),
    `| ${widths.map((w, i) => (i === 0 ? "-".repeat(w) : "-".repeat(w - 1) + ":")).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}

/** The cases that are not plain passes, one line each, for the report. */
export function details(results: readonly Result[]): string {
  return results.filter((r) => r.verdict !== "passed").map((r) =>
    `- ${r.verdict}: ${r.case.id} ${r.case.title} (${r.case.rfc}) — ${r.note}` +
    (r.verdict === "failed" ? `\n  got ${JSON.stringify(r.trace)}` : "")
  ).join("\n");
}
