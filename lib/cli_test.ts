import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type CliOptions, listeningLine, loadConfig } from "./cli.ts";
import { helpText } from "./config.ts";

/** Thrown by the fake exit so that `never` holds and the code can be read back. */
class Exited {
  constructor(readonly code: number) {}
}

interface Run {
  result?: unknown;
  exitCode?: number;
  printed: string[];
  errors: string[];
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const out: Run = { printed: [], errors: [] };
  const options: CliOptions = {
    env,
    program: "echo-test",
    exit(code: number): never {
      throw new Exited(code);
    },
    print: (line) => out.printed.push(line),
    printError: (line) => out.errors.push(line),
  };
  try {
    out.result = loadConfig(args, options);
  } catch (error) {
    if (!(error instanceof Exited)) throw error;
    out.exitCode = error.code;
  }
  return out;
}

describe("loadConfig", () => {
  test("returns the configuration without printing or exiting", () => {
    const out = run(["--port", "1234"], { HOST: "127.0.0.1" });
    assert.deepEqual(out, { result: { port: 1234, host: "127.0.0.1" }, printed: [], errors: [] });
  });

  test("returns the defaults for no arguments", () => {
    assert.deepEqual(run([]).result, { port: 8181, host: "0.0.0.0" });
  });

  for (const flag of ["--help", "-h"]) {
    test(`${flag} prints the help once and exits 0`, () => {
      const out = run([flag]);
      assert.equal(out.exitCode, 0);
      assert.equal(out.result, undefined);
      assert.deepEqual(out.printed, [helpText("echo-test")]);
      assert.deepEqual(out.errors, []);
    });
  }

  const bad: Array<[string, string[], Record<string, string>, string]> = [
    ["PORT=abc", [], { PORT: "abc" }, "echo: PORT: "],
    ["PORT=70000", [], { PORT: "70000" }, "echo: PORT: "],
    ["--port abc", ["--port", "abc"], {}, "echo: --port: "],
    ["--port=-1", ["--port=-1"], {}, "echo: --port: "],
    ["--port with no value", ["--port"], {}, "echo: --port: "],
    ["an unknown flag", ["--bogus"], {}, "echo: --bogus: "],
  ];
  for (const [what, args, env, prefix] of bad) {
    test(`${what} prints one error line naming the option and exits 2`, () => {
      const out = run(args, env);
      assert.equal(out.exitCode, 2);
      assert.equal(out.result, undefined);
      assert.deepEqual(out.printed, []);
      assert.equal(out.errors.length, 1);
      assert.ok(out.errors[0].startsWith(prefix), out.errors[0]);
      assert.ok(!out.errors[0].includes("\n"), out.errors[0]);
    });
  }

  test("lets errors other than ConfigError through unchanged", () => {
    const boom = new Error("exit failed");
    const options: CliOptions = {
      env: {},
      program: "p",
      exit: () => {
        throw boom;
      },
      print: () => {},
      printError: () => assert.fail("printError must not be called"),
    };
    assert.throws(() => loadConfig(["--help"], options), (error) => error === boom);
  });
});

describe("listeningLine", () => {
  test("names localhost and the wildcard for 0.0.0.0", () => {
    assert.equal(
      listeningLine({ hostname: "0.0.0.0", port: 8181 }, "Deno 2.9.6"),
      "Echo on Deno 2.9.6 listening on ws://localhost:8181/ (all interfaces, 0.0.0.0)",
    );
  });

  test("names localhost and the wildcard for ::", () => {
    assert.equal(
      listeningLine({ hostname: "::", port: 1 }, "Bun 1.4.5"),
      "Echo on Bun 1.4.5 listening on ws://localhost:1/ (all interfaces, ::)",
    );
  });

  test("shows a specific IPv4 address or name as is", () => {
    assert.equal(
      listeningLine({ hostname: "127.0.0.1", port: 65535 }, "Deno"),
      "Echo on Deno listening on ws://127.0.0.1:65535/",
    );
    assert.equal(
      listeningLine({ hostname: "localhost", port: 80 }, "Bun"),
      "Echo on Bun listening on ws://localhost:80/",
    );
  });

  test("brackets an IPv6 address", () => {
    assert.equal(
      listeningLine({ hostname: "::1", port: 9 }, "Deno"),
      "Echo on Deno listening on ws://[::1]:9/",
    );
  });

  test("the port can be read back from the line", () => {
    const line = listeningLine({ hostname: "0.0.0.0", port: 43210 }, "Deno");
    assert.equal(Number(/:(\d+)\//.exec(line)?.[1]), 43210);
  });
});
