/**
 * The layout rules docs/design.md states, checked on the tree: no import cycles of files or of folders,
 * `lib/` free of runtime globals with at most ~25 modules at its root, runtime files that stay small,
 * a README short enough to be a guide whose links all lead somewhere, and a bench/ that is a harness.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./support/server.ts";

const SKIP = new Set(["node_modules", ".git", "dist", "tests/artifacts"]);

function sources(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (SKIP.has(relative(ROOT, path))) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

/** Relative imports of a file, resolved to absolute paths (type-only imports count too: tsc follows them). */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^"'`;]*?from\s+["'](\.[^"']+)["']/g)];
  return found.map((match) => resolve(dirname(file), match[1]));
}

describe("layout", () => {
  test("no module imports itself through others (no import cycles)", () => {
    const graph = new Map(sources().map((file) => [file, imports(file)]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done" || !graph.has(file)) return;
      if (state.get(file) === "open") {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(ROOT, f)).join(" → "));
        return;
      }
      state.set(file, "open");
      for (const next of graph.get(file)!) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(cycles, []);
  });

  test("no folder imports itself through others (imports point down; tests beside modules excluded)", () => {
    const modules = sources().filter((file) =>
      !file.endsWith("_test.ts") && !relative(ROOT, file).startsWith("tests")
    );
    const folders = new Map<string, Set<string>>();
    for (const file of modules) {
      for (const target of imports(file)) {
        const [from, to] = [relative(ROOT, dirname(file)) || ".", relative(ROOT, dirname(target)) || "."];
        if (from === to) continue;
        if (!folders.has(from)) folders.set(from, new Set());
        folders.get(from)!.add(to);
      }
    }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (folder: string, path: string[]) => {
      if (state.get(folder) === "done") return;
      if (state.get(folder) === "open") {
        cycles.push([...path.slice(path.indexOf(folder)), folder].join(" → "));
        return;
      }
      state.set(folder, "open");
      for (const next of folders.get(folder) ?? []) visit(next, [...path, folder]);
      state.set(folder, "done");
    };
    for (const folder of folders.keys()) visit(folder, []);
    assert.deepEqual(cycles, []);
    // The shared state at lib/'s root imports nothing from lib/'s folders.
    assert.deepEqual([...folders.get("lib") ?? []].filter((to) => to.startsWith("lib/")), []);
  });

  test("lib/'s root holds at most 25 modules: the families beyond the echo path live in folders", () => {
    const root = readdirSync(join(ROOT, "lib")).filter((name) =>
      name.endsWith(".ts") && !name.endsWith("_test.ts")
    );
    assert.ok(root.length <= 25, `${root.length}: ${root.join(", ")}`);
  });

  test("runtime files stay small: one concern each, at most 200 lines", () => {
    const runtime = [
      join(ROOT, "main.ts"),
      join(ROOT, "serve.ts"),
      ...sources(join(ROOT, "deno")),
      ...sources(join(ROOT, "bun")),
    ];
    const long = runtime.filter((file) => readFileSync(file, "utf8").split("\n").length > 200);
    assert.deepEqual(long.map((file) => relative(ROOT, file)), []);
  });

  test("lib/ names no runtime global: it runs on both runtimes and in tests without a socket", () => {
    const offenders = sources(join(ROOT, "lib")).filter((file) =>
      /\b(Deno|Bun)\.[a-zA-Z]/.test(readFileSync(file, "utf8").replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ""))
    );
    assert.deepEqual(offenders.map((file) => relative(ROOT, file)), []);
  });

  test("README.md is a guide of at most 400 lines, and no doc narrates passes of work", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    assert.ok(readme.split("\n").length <= 400, `${readme.split("\n").length} lines`);
    const docs = [
      join(ROOT, "README.md"),
      ...readdirSync(join(ROOT, "docs")).map((f) => join(ROOT, "docs", f)),
    ]
      .filter((file) => file.endsWith(".md"));
    for (const file of docs) {
      assert.doesNotMatch(
        readFileSync(file, "utf8"),
        /\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth) pass\b/i,
        relative(ROOT, file),
      );
    }
  });

  test("no source comment points at a README pass", () => {
    const offenders = sources().filter((file) => /README, \w+ pass/.test(readFileSync(file, "utf8")));
    assert.deepEqual(offenders.map((file) => relative(ROOT, file)), []);
  });

  test("every relative link in the README and docs/ names a file that exists", () => {
    const docs = [
      join(ROOT, "README.md"),
      ...readdirSync(join(ROOT, "docs")).map((f) => join(ROOT, "docs", f)),
    ]
      .filter((file) => file.endsWith(".md"));
    const broken: string[] = [];
    for (const file of docs) {
      for (const [, target] of readFileSync(file, "utf8").matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
        const path = resolve(dirname(file), target.split("#")[0]);
        if (!existsSync(path)) broken.push(`${relative(ROOT, file)} → ${target}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  test("bench/ is a harness of at most 10 files, each named in docs/benchmarks.md", () => {
    // A partial run's output (`--quick`, `--only`) is ignored by git and is not part of the harness.
    const files = readdirSync(join(ROOT, "bench")).filter((file) => !file.startsWith("results.partial."));
    assert.ok(files.length <= 10, files.join(", "));
    const doc = readFileSync(join(ROOT, "docs", "benchmarks.md"), "utf8");
    assert.deepEqual(files.filter((file) => !doc.includes(file)), []);
  });
});
