/**
 * The Deno entries started without a permission they need: one line on stderr naming the permission
 * and the command that grants it, status 2, no stack trace. (Bun has no permissions.)
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Entry, ROOT, runToExit } from "./support/server.ts";

const DENO = `${ROOT}node_modules/.bin/deno`;
const RUN = "deno run --allow-net --allow-env main.ts";
const SERVE = "deno serve --parallel --allow-net --allow-env serve.ts";

/** Deno started as `deno <args> <script>`, with exactly the permissions in `args`. */
function deno(args: string[], script: string): Entry {
  return { name: "deno", command: () => [DENO, ...args, script] };
}

const missing: Array<[string, Entry, RegExp, string]> = [
  ["deno run main.ts", deno(["run"], "main.ts"), /env access \(--allow-env\)/, RUN],
  [
    "deno run --allow-net main.ts",
    deno(["run", "--allow-net"], "main.ts"),
    /env access \(--allow-env\)/,
    RUN,
  ],
  [
    "deno run --allow-env=PORT --allow-net main.ts",
    deno(["run", "--allow-env=PORT", "--allow-net"], "main.ts"),
    /env access \(--allow-env\)/,
    RUN,
  ],
  [
    "deno run --allow-env main.ts",
    deno(["run", "--allow-env"], "main.ts"),
    /net access \(--allow-net\) to listen on 0\.0\.0\.0:8181/,
    RUN,
  ],
  [
    "deno run --allow-env --allow-net=127.0.0.1 main.ts (HOST is 0.0.0.0)",
    deno(["run", "--allow-env", "--allow-net=127.0.0.1"], "main.ts"),
    /net access \(--allow-net\) to listen on 0\.0\.0\.0:8181/,
    RUN,
  ],
  ["deno serve serve.ts", deno(["serve", "--port", "0"], "serve.ts"), /env access \(--allow-env\)/, SERVE],
  [
    "deno serve --allow-net serve.ts",
    deno(["serve", "--allow-net", "--port", "0"], "serve.ts"),
    /env access \(--allow-env\)/,
    SERVE,
  ],
  [
    "deno serve --parallel serve.ts",
    deno(["serve", "--parallel", "--port", "0"], "serve.ts"),
    /env access \(--allow-env\)/,
    SERVE,
  ],
  // deno serve allows the address it listens on, but Echo asks for net as every documented command
  // grants it: the fleet's engine (FLEET_URL) and the healthcheck connect out.
  [
    "deno serve --allow-env serve.ts",
    deno(["serve", "--allow-env", "--port", "0"], "serve.ts"),
    /net access \(--allow-net\)/,
    SERVE,
  ],
  [
    "deno serve --parallel --allow-env serve.ts",
    deno(["serve", "--parallel", "--allow-env", "--port", "0"], "serve.ts"),
    /net access \(--allow-net\)/,
    SERVE,
  ],
];

describe("Deno entries without a permission they need", () => {
  for (const [command, entry, permission, grants] of missing) {
    test(`${command}: one line naming the permission and the command, status 2`, async () => {
      const { code, stdout, stderr } = await runToExit(entry, {});
      assert.equal(code, 2, stderr);
      assert.equal(stdout, "");
      const lines = stderr.trim().split("\n");
      assert.equal(lines.length, 1, stderr);
      // `deno serve --parallel` prefixes each worker's output with its name.
      assert.match(lines[0], /^(\[serve-worker-\d+ *\] )?echo: needs /);
      assert.match(lines[0], permission);
      assert.ok(lines[0].endsWith(grants), lines[0]);
    });
  }
});

describe("deno serve --parallel: a start-up that stops speaks once for all its isolates", () => {
  const parallel = deno(["serve", "--parallel", "--allow-net", "--allow-env", "--port", "0"], "serve.ts");
  // Each isolate stops alike; without agreeing, each printed its own copy, racing the first one's exit.
  for (let round = 1; round <= 3; round++) {
    test(`a bad option: one line, status 2 (round ${round})`, async () => {
      const { code, stdout, stderr } = await runToExit(parallel, { env: { MAX_CONNECTIONS: "x" } });
      assert.equal(code, 2, stderr);
      assert.equal(stdout, "");
      assert.match(stderr, /^(\[serve-worker-\d+ *\] )?echo: MAX_CONNECTIONS: expected a whole number/);
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
    });
    test(`--help: the help once, status 0 (round ${round})`, async () => {
      const { code, stdout, stderr } = await runToExit(parallel, { args: ["--help"] });
      assert.equal(code, 0, stderr);
      assert.equal(stdout.match(/Usage: /g)?.length, 1, stdout);
    });
  }
});
