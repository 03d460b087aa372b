/**
 * The layout rules docs/design.md states, checked on the tree: no import cycles, and `lib/` free of
 * runtime globals.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
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

  test("lib/ names no runtime global: it runs on both runtimes and in tests without a socket", () => {
    const offenders = sources(join(ROOT, "lib")).filter((file) =>
      /\b(Deno|Bun)\.[a-zA-Z]/.test(readFileSync(file, "utf8").replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ""))
    );
    assert.deepEqual(offenders.map((file) => relative(ROOT, file)), []);
  });
});
