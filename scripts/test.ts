/**
 * `npm test` (run by Bun): the static checks (`npm run check`), then every test under `deno test` (`npm run
 * test:deno`) and under `bun test` (`npm run test:bun`). Each phase's whole output goes to a file in
 * tests/artifacts/ (not committed), not to the terminal; what the terminal gets is one line per phase, every
 * failure in full, where the reports went, and, as the last two lines, one count per runner:
 *
 *     deno: 812 passed, 0 failed
 *     bun: 801 passed, 0 failed
 *
 * All three phases run even after one fails; the exit status is 1 when any did. `ECHO_TEST_OUTPUT=full`
 * streams every phase's output to the terminal as well. Paths after `--` (`npm test -- tests/cli_test.ts`)
 * run those files under both runners instead of `lib/` and `tests/`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root. */
const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** Where each phase's output is written, relative to the root. */
const ARTIFACTS = "tests/artifacts";
const BIN = `${ROOT}node_modules/.bin/`;

/** How many tests passed, failed and were skipped, by a runner's own account. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");
const lines = (text: string) => text.replace(ANSI, "").split("\n").map((line) => line.replace(/\r$/, ""));

/** A line of `deno test`'s pretty report: `name ...` opens a test, `name ... ok (3ms)` ends one. */
const DENO_LINE = /^(\s*)(.+?) \.\.\.(?: (ok|FAILED|ignored|cancelled)\b.*)?$/;
/** Around what a test printed: `------- output -------` … `----- output end -----`. */
const DENO_OUTPUT = /^-+ (?:pre-test |post-test )?output(?: end)? -+$/;
const DENO_SUMMARY = /^(ok|FAILED) \| (\d+) passed.*\| (\d+) failed/;

/**
 * The tests `deno test` ran, counted as Bun counts them: each test that has no steps (a `test()` inside a
 * `describe()` is a step to Deno; the `describe` itself is not counted). A run that failed without a failed
 * test (a file that does not load, a leak Deno reports) counts as one failure.
 */
export function denoCounts(output: string, exitCode: number | null): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  const open: Array<{ indent: number; name: string; children: number }> = [];
  let inOutput = false;
  for (const line of lines(output)) {
    if (DENO_OUTPUT.test(line)) {
      inOutput = !/output end/.test(line);
      continue;
    }
    if (inOutput) continue;
    if (/^ ERRORS $/.test(line)) break; // the failures again, in detail
    const match = DENO_LINE.exec(line);
    if (!match) continue;
    const [, indent, name, result] = match;
    if (!result) {
      open.push({ indent: indent.length, name, children: 0 });
      continue;
    }
    const top = open.at(-1);
    const closes = top && top.indent === indent.length && top.name === name;
    if (closes) open.pop();
    if (!closes || top.children === 0) {
      if (result === "ok") counts.passed++;
      else if (result === "ignored") counts.skipped++;
      else counts.failed++;
    }
    if (open.length > 0) open[open.length - 1].children++;
  }
  const summary = lines(output).map((line) => DENO_SUMMARY.exec(line)).filter((m) => m !== null).at(-1);
  if (exitCode !== 0 && counts.failed === 0) counts.failed = Math.max(1, Number(summary?.[3] ?? 0));
  return counts;
}

/** What to show of a failed `deno test` run: its ERRORS and FAILURES sections, or its end. */
export function denoFailures(output: string): string {
  const all = lines(output);
  const start = all.findIndex((line) => /^ ERRORS $/.test(line));
  if (start < 0) return all.slice(-80).join("\n").trim();
  const end = all.findIndex((line, k) => k > start && DENO_SUMMARY.test(line));
  return all.slice(start, end < 0 ? undefined : end).join("\n").trim();
}

/**
 * The tests `bun test` ran, from its closing counts (` 801 pass`, ` 0 fail`, ` 2 skip`); an error outside any
 * test (` 1 error`) counts as a failure.
 */
export function bunCounts(output: string, exitCode: number | null): Counts {
  const text = lines(output).join("\n");
  const count = (word: string) => Number(new RegExp(`^ ?(\\d+) ${word}$`, "m").exec(text)?.[1] ?? 0);
  const counts = {
    passed: count("pass"),
    failed: count("fail") + count("errors?"),
    skipped: count("skip") + count("todo"),
  };
  if (exitCode !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

/** Where a failure's own lines start in `bun test`'s output: after the previous test's result or file name. */
const BUN_BOUNDARY = /^(\((pass|skip|todo)\) |\S.*\.(ts|tsx|js|mjs):$)/;

/**
 * What to show of a failed `bun test` run: for each failed test, what Bun printed about it (the error, its
 * frames) and its `(fail)` line; otherwise (an error outside any test) the output's end.
 */
export function bunFailures(output: string): string {
  const blocks: string[] = [];
  let block: string[] = [];
  for (const line of lines(output)) {
    if (/^\d+ tests? failed:$/.test(line)) break; // Bun's closing list of the same failures
    if (BUN_BOUNDARY.test(line)) {
      block = [];
    } else if (line.startsWith("(fail) ")) {
      blocks.push([...block, line].join("\n").trim());
      block = [];
    } else {
      block.push(line);
    }
  }
  // Errors outside any test (a hook that throws, a rejection nobody awaited), between two rules of dashes.
  const all = lines(output);
  all.forEach((line, k) => {
    if (!/^# Unhandled error/.test(line)) return;
    const rules = all.map((l, j) => j > k && /^-{10,}$/.test(l) ? j : -1).filter((j) => j >= 0);
    blocks.push(all.slice(k, (rules[1] ?? k + 60) + 1).join("\n").trim());
  });
  return blocks.length > 0 ? blocks.join("\n\n") : lines(output).slice(-80).join("\n").trim();
}

/** Runs `command` with its output going to `file` (and the terminal too with ECHO_TEST_OUTPUT=full). */
function run(command: string[], file: string): Promise<number | null> {
  const log = createWriteStream(`${ROOT}${file}`);
  const full = process.env.ECHO_TEST_OUTPUT === "full";
  const child = spawn(command[0], command.slice(1), {
    cwd: ROOT,
    stdio: ["inherit", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on("data", (chunk: Buffer) => {
      log.write(chunk);
      if (full) process.stdout.write(chunk);
    });
  }
  return new Promise((resolve) => {
    child.once("close", (code, signal) => log.end(() => resolve(signal ? 128 : code)));
    child.once("error", (error) => {
      log.end(`${error}\n`);
      resolve(127);
    });
  });
}

const seconds = (since: number) => {
  const s = Math.round((Date.now() - since) / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
};

function section(title: string, body: string): void {
  console.log(`\n──── ${title} ${"─".repeat(Math.max(4, 100 - title.length))}\n${body}\n`);
}

async function main(): Promise<number> {
  mkdirSync(`${ROOT}${ARTIFACTS}`, { recursive: true });
  let failed = false;

  const checkLog = `${ARTIFACTS}/check.log`;
  let started = Date.now();
  const checkCode = await run(["npm", "run", "check"], checkLog);
  console.log(
    `check (deno check, lint, fmt, tsc): ${checkCode === 0 ? "ok" : "FAILED"} in ${seconds(started)}`,
  );
  if (checkCode !== 0) {
    failed = true;
    section(
      `npm run check failed (exit ${checkCode}); ${checkLog}`,
      readFileSync(`${ROOT}${checkLog}`, "utf8").trim(),
    );
  }

  // What `npm run test:deno` and `npm run test:bun` run, on the paths given if any. Bun's default 5 s per
  // test is shorter than a loaded machine takes to start a server, and a timed-out Bun test takes every
  // child process down with it (the file's shared servers too), so Bun's bound is 30 s (Deno's runner
  // has none).
  const paths = process.argv.length > 2 ? process.argv.slice(2) : ["lib/", "tests/"];
  const runners = [
    {
      name: "deno",
      command: [`${BIN}deno`, "test", "--allow-all"],
      counts: denoCounts,
      failures: denoFailures,
    },
    {
      name: "bun",
      command: [`${BIN}bun`, "test", "--timeout", "30000"],
      counts: bunCounts,
      failures: bunFailures,
    },
  ];
  const totals: string[] = [];
  for (const runner of runners) {
    const file = `${ARTIFACTS}/test-${runner.name}.log`;
    console.log(`${runner.name} test: running; full output in ${file}`);
    started = Date.now();
    const code = await run([...runner.command, ...paths], file);
    const output = readFileSync(`${ROOT}${file}`, "utf8");
    const counts = runner.counts(output, code);
    const skipped = counts.skipped ? `, ${counts.skipped} skipped` : "";
    console.log(`${runner.name} test: exit ${code} in ${seconds(started)}${skipped}`);
    if (code !== 0 || counts.failed > 0) {
      failed = true;
      section(`${runner.name} test failures (exit ${code}); everything in ${file}`, runner.failures(output));
    }
    totals.push(`${runner.name}: ${counts.passed} passed, ${counts.failed} failed`);
  }

  console.log(
    `Reports in ${ARTIFACTS}/: conformance-<entry>-<runner>.md (tables), *.png (the page), *.log (each phase)`,
  );
  if (checkCode !== 0) console.log("check: FAILED (see above)");
  for (const line of totals) console.log(line);
  return failed ? 1 : 0;
}

if (import.meta.main) process.exit(await main());
