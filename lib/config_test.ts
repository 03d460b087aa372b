import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Config, ConfigError, DEFAULTS, helpText, parseConfig } from "./config.ts";

/** Parses and insists on a configuration (not `"help"`). */
function parse(args: string[], env: Record<string, string | undefined> = {}): Config {
  const result = parseConfig(args, env);
  assert.notEqual(result, "help");
  return result as Config;
}

/** Asserts that parsing throws a ConfigError whose message starts with `source:`. */
function assertRefused(args: string[], env: Record<string, string | undefined>, source: string): ConfigError {
  let caught: unknown;
  try {
    parseConfig(args, env);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.name, "ConfigError");
  assert.ok(caught.message.startsWith(`${source}:`), caught.message);
  assert.ok(!caught.message.includes("\n"), "the message is one line");
  return caught;
}

describe("DEFAULTS", () => {
  test("are port 8181 on every interface", () => {
    assert.deepEqual({ ...DEFAULTS }, { port: 8181, host: "0.0.0.0" });
  });
});

describe("parseConfig", () => {
  test("gives the defaults when nothing is set", () => {
    assert.deepEqual(parse([], {}), { port: 8181, host: "0.0.0.0" });
  });

  test("returns a fresh object that does not alias DEFAULTS", () => {
    const config = parse([], {});
    config.port = 1;
    assert.equal(DEFAULTS.port, 8181);
    assert.notEqual(parse([], {}), parse([], {}));
  });

  test("reads PORT and HOST from the environment", () => {
    assert.deepEqual(parse([], { PORT: "9000", HOST: "127.0.0.1" }), { port: 9000, host: "127.0.0.1" });
  });

  test("ignores empty and undefined environment variables", () => {
    assert.deepEqual(parse([], { PORT: "", HOST: undefined }), { port: 8181, host: "0.0.0.0" });
  });

  test("ignores unrelated environment variables", () => {
    assert.deepEqual(parse([], { port: "1", ECHO_PORT: "2", PATH: "/bin" }), { port: 8181, host: "0.0.0.0" });
  });

  test("accepts --port 1 and --port=1", () => {
    assert.equal(parse(["--port", "1"]).port, 1);
    assert.equal(parse(["--port=1"]).port, 1);
  });

  test("accepts --host h and --host=h", () => {
    assert.equal(parse(["--host", "::1"]).host, "::1");
    assert.equal(parse(["--host=localhost"]).host, "localhost");
  });

  test("splits --flag=value at the first '=' only", () => {
    assert.equal(parse(["--host=a=b"]).host, "a=b");
  });

  test("flag beats environment beats default", () => {
    assert.equal(parse([], {}).port, 8181);
    assert.equal(parse([], { PORT: "2000" }).port, 2000);
    assert.equal(parse(["--port", "3000"], { PORT: "2000" }).port, 3000);
    assert.equal(parse(["--port=3000"], { PORT: "2000" }).port, 3000);
    assert.equal(parse(["--host", "h1"], { HOST: "h2" }).host, "h1");
  });

  test("each option is resolved on its own", () => {
    assert.deepEqual(parse(["--port", "3000"], { HOST: "127.0.0.1" }), { port: 3000, host: "127.0.0.1" });
    assert.deepEqual(parse(["--host", "h"], { PORT: "2000" }), { port: 2000, host: "h" });
  });

  test("the last of a repeated flag wins", () => {
    assert.equal(parse(["--port", "1", "--port=2"]).port, 2);
  });

  test("ports 0 and 65535 are valid", () => {
    assert.equal(parse(["--port", "0"]).port, 0);
    assert.equal(parse(["--port=65535"]).port, 65535);
    assert.equal(parse([], { PORT: "0" }).port, 0);
    assert.equal(parse([], { PORT: "65535" }).port, 65535);
  });

  test("leading zeros are read as decimal", () => {
    assert.equal(parse(["--port", "00080"]).port, 80);
  });

  for (const bad of ["abc", "70000", "65536", "-1", "1.5", " 80", "80 ", "0x10", "1e3", "", "123456"]) {
    test(`refuses port ${JSON.stringify(bad)} from the flag, naming --port`, () => {
      const error = assertRefused(["--port", bad], {}, "--port");
      assert.ok(error.message.includes(JSON.stringify(bad)), error.message);
      assertRefused([`--port=${bad}`], {}, "--port");
    });
  }

  for (const bad of ["abc", "70000", "-1", "1.5"]) {
    test(`refuses PORT=${JSON.stringify(bad)}, naming PORT`, () => {
      const error = assertRefused([], { PORT: bad }, "PORT");
      assert.equal(error.message, `PORT: expected a port from 0 to 65535, got ${JSON.stringify(bad)}`);
    });
  }

  for (const bad of ["a b", " ", "\t"]) {
    test(`refuses host ${JSON.stringify(bad)}`, () => {
      assertRefused(["--host", bad], {}, "--host");
      assertRefused([], { HOST: bad }, "HOST");
    });
  }

  test("refuses an empty host given as a flag", () => {
    assertRefused(["--host="], {}, "--host");
  });

  test("refuses a flag with no value, naming it", () => {
    const error = assertRefused(["--port"], {}, "--port");
    assert.equal(error.message, "--port: missing value");
    assert.equal(assertRefused(["--port", "1", "--host"], {}, "--host").message, "--host: missing value");
  });

  test("refuses unknown options, naming them", () => {
    const error = assertRefused(["--bogus"], {}, "--bogus");
    assert.equal(error.message, "--bogus: unknown option (see --help)");
    assertRefused(["--bogus=1"], {}, "--bogus=1");
    assertRefused(["8080"], {}, "8080");
    assertRefused(["-p", "1"], {}, "-p");
  });

  test('--help and -h give "help"', () => {
    assert.equal(parseConfig(["--help"], {}), "help");
    assert.equal(parseConfig(["-h"], {}), "help");
    assert.equal(parseConfig(["--port", "1", "--help"], {}), "help");
    assert.equal(parseConfig(["-h", "--bogus"], {}), "help");
  });
});

describe("helpText", () => {
  const help = helpText("echo-prog");

  test("shows the program in the usage line", () => {
    assert.ok(help.includes("Usage: echo-prog [options]"), help);
  });

  test("lists every option with its flag, variable and default", () => {
    const port = help.split("\n").find((line) => line.includes("--port"));
    const host = help.split("\n").find((line) => line.includes("--host"));
    assert.ok(port !== undefined && host !== undefined, help);
    assert.match(port, /--port <value>\s+PORT\s+.*\(default 8181\)$/);
    assert.match(host, /--host <value>\s+HOST\s+.*\(default 0\.0\.0\.0\)$/);
    assert.match(help, /^ {2}--help\s+print this help and exit$/m);
    assert.ok(help.includes("Flags override environment variables."));
  });

  test("fits in the line width", () => {
    for (const line of help.split("\n")) assert.ok(line.length <= 110, line);
  });
});
