import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type CliOptions, listeningLine, loadConfig, type Settings, startupFailure } from "./cli.ts";
import { DEFAULTS, helpText } from "../config.ts";

/** Thrown by the fake exit so that `never` holds and the code can be read back. */
class Exited {
  constructor(readonly code: number) {}
}

function exit(code: number): never {
  throw new Exited(code);
}

interface Run {
  result?: Settings;
  exitCode?: number;
  printed: string[];
  errors: string[];
  read: string[];
}

const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
const FILES: Record<string, string> = {
  "/tls/cert.pem": CERT,
  "/tls/key.pem": KEY,
  "/tls/rsa-key.pem": KEY.replaceAll("PRIVATE KEY", "RSA PRIVATE KEY"),
  "/tls/garbage.pem": "garbage\n",
};

function run(args: string[], env: Record<string, string> = {}, options: Partial<CliOptions> = {}): Run {
  const out: Run = { printed: [], errors: [], read: [] };
  const cli: CliOptions = {
    env,
    program: "echo-test",
    exit,
    readTextFile(path) {
      out.read.push(path);
      if (!(path in FILES)) {
        throw new Error(`No such file or directory (os error 2): readfile '${path}'\nmore`);
      }
      return FILES[path];
    },
    isTerminal: false,
    print: (line) => out.printed.push(line),
    printError: (line) => out.errors.push(line),
    ...options,
  };
  try {
    out.result = loadConfig(args, cli);
  } catch (error) {
    if (!(error instanceof Exited)) throw error;
    out.exitCode = error.code;
  }
  return out;
}

describe("loadConfig", () => {
  test("returns the settings without printing, reading or exiting", () => {
    const out = run(["--port", "1234"], { HOST: "127.0.0.1" });
    assert.deepEqual(out, {
      result: { config: { ...DEFAULTS, port: 1234, host: "127.0.0.1" }, tls: undefined, logFormat: "json" },
      printed: [],
      errors: [],
      read: [],
    });
  });

  test("returns the defaults for no arguments", () => {
    assert.deepEqual(run([]).result?.config, DEFAULTS);
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

  test("--help wins over a bad value and reads no file", () => {
    const out = run(["--help"], { PORT: "abc", TLS_CERT_FILE: "/missing", TLS_KEY_FILE: "/missing" });
    assert.equal(out.exitCode, 0);
    assert.deepEqual(out.errors, []);
    assert.deepEqual(out.read, []);
  });

  const bad: Array<[string, string[], Record<string, string>, string]> = [
    ["PORT=abc", [], { PORT: "abc" }, "echo: PORT: "],
    ["PORT=70000", [], { PORT: "70000" }, "echo: PORT: "],
    ["--port abc", ["--port", "abc"], {}, "echo: --port: "],
    ["--port=-1", ["--port=-1"], {}, "echo: --port: "],
    ["--port with no value", ["--port"], {}, "echo: --port: "],
    ["an unknown flag", ["--bogus"], {}, "echo: --bogus: "],
    ["MAX_CONNECTIONS=0", [], { MAX_CONNECTIONS: "0" }, "echo: MAX_CONNECTIONS: "],
    [
      "a foreign ALLOWED_ORIGINS entry",
      ["--allowed-origins", "example.com"],
      {},
      "echo: --allowed-origins: ",
    ],
    [
      "a certificate without a key",
      [],
      { TLS_CERT_FILE: "/tls/cert.pem" },
      "echo: TLS_CERT_FILE and TLS_KEY_FILE: ",
    ],
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
      readTextFile: () => assert.fail("no file to read"),
      isTerminal: false,
      print: () => {},
      printError: () => assert.fail("printError must not be called"),
    };
    assert.throws(() => loadConfig(["--help"], options), (error) => error === boom);
  });
});

describe("loadConfig: TLS files", () => {
  const pair = { TLS_CERT_FILE: "/tls/cert.pem", TLS_KEY_FILE: "/tls/key.pem" };

  test("reads the certificate and key into settings.tls", () => {
    const out = run([], pair);
    assert.deepEqual(out.result?.tls, { cert: CERT, key: KEY });
    assert.deepEqual(out.read, ["/tls/cert.pem", "/tls/key.pem"]);
    assert.equal(out.result?.config.tlsCertFile, "/tls/cert.pem");
  });

  test("reads the files the flags name", () => {
    const out = run(["--tls-cert-file", "/tls/cert.pem", "--tls-key-file=/tls/key.pem"]);
    assert.deepEqual(out.result?.tls, { cert: CERT, key: KEY });
  });

  for (
    const [name, env] of [
      ["TLS_CERT_FILE", { ...pair, TLS_CERT_FILE: "/tls/missing-cert.pem" }],
      ["TLS_KEY_FILE", { ...pair, TLS_KEY_FILE: "/tls/missing-key.pem" }],
    ] as const
  ) {
    test(`an unreadable ${name} exits 2 with one line naming ${name} and the path`, () => {
      const out = run([], env);
      assert.equal(out.exitCode, 2);
      assert.equal(out.result, undefined);
      assert.equal(out.errors.length, 1);
      const path = name === "TLS_CERT_FILE" ? env.TLS_CERT_FILE : env.TLS_KEY_FILE;
      assert.ok(
        out.errors[0].startsWith(`echo: ${name}: cannot read "${path}": No such file`),
        out.errors[0],
      );
      assert.ok(!out.errors[0].includes("\n"), out.errors[0]);
    });
  }

  test("a key in PKCS#1 (RSA PRIVATE KEY) form is read too", () => {
    assert.match(
      run([], { ...pair, TLS_KEY_FILE: "/tls/rsa-key.pem" }).result?.tls?.key ?? "",
      /RSA PRIVATE KEY/,
    );
  });

  for (
    const [name, env, what] of [
      ["TLS_CERT_FILE", { ...pair, TLS_CERT_FILE: "/tls/garbage.pem" }, "certificate"],
      ["TLS_KEY_FILE", { ...pair, TLS_KEY_FILE: "/tls/garbage.pem" }, "private key"],
      [
        "TLS_CERT_FILE",
        { ...pair, TLS_CERT_FILE: "/tls/key.pem", TLS_KEY_FILE: "/tls/cert.pem" },
        "certificate",
      ],
    ] as const
  ) {
    test(`a ${name} that holds no PEM ${what} (${env[name]}) exits 2 with one line naming it`, () => {
      const out = run([], env);
      assert.equal(out.exitCode, 2);
      assert.deepEqual(out.errors, [`echo: ${name}: "${env[name]}" holds no PEM ${what}`]);
    });
  }

  test("a reader that throws a non-Error still exits 2 naming the variable", () => {
    const out = run([], pair, {
      readTextFile: () => {
        throw "permission denied";
      },
    });
    assert.equal(out.exitCode, 2);
    assert.equal(out.errors.length, 1);
    assert.ok(out.errors[0].startsWith("echo: TLS_CERT_FILE: cannot read"), out.errors[0]);
  });
});

describe("loadConfig: log format", () => {
  const cases: Array<[string, Record<string, string>, boolean, "json" | "pretty"]> = [
    ["auto on a terminal is pretty", {}, true, "pretty"],
    ["auto elsewhere is json", {}, false, "json"],
    ["json on a terminal stays json", { LOG_FORMAT: "json" }, true, "json"],
    ["pretty off a terminal stays pretty", { LOG_FORMAT: "pretty" }, false, "pretty"],
    ["an explicit auto on a terminal is pretty", { LOG_FORMAT: "auto" }, true, "pretty"],
  ];
  for (const [what, env, isTerminal, format] of cases) {
    test(what, () => {
      const out = run([], env, { isTerminal });
      assert.equal(out.result?.logFormat, format);
      assert.equal(out.result?.config.logFormat, env.LOG_FORMAT ?? "auto", "the config keeps what was asked");
    });
  }
});

describe("listeningLine", () => {
  const deno = { runtime: "Deno 2.9.6", tls: false };

  test("names localhost and the wildcard for 0.0.0.0", () => {
    assert.equal(
      listeningLine({ hostname: "0.0.0.0", port: 8181 }, deno),
      "Echo on Deno 2.9.6 listening on ws://localhost:8181/ (all interfaces, 0.0.0.0)",
    );
  });

  test("names localhost and the wildcard for ::", () => {
    assert.equal(
      listeningLine({ hostname: "::", port: 1 }, { runtime: "Bun 1.4.5", tls: false }),
      "Echo on Bun 1.4.5 listening on ws://localhost:1/ (all interfaces, ::)",
    );
  });

  test("shows a specific IPv4 address or name as is", () => {
    assert.equal(
      listeningLine({ hostname: "127.0.0.1", port: 65535 }, { runtime: "Deno", tls: false }),
      "Echo on Deno listening on ws://127.0.0.1:65535/",
    );
    assert.equal(
      listeningLine({ hostname: "localhost", port: 80 }, { runtime: "Bun", tls: false }),
      "Echo on Bun listening on ws://localhost:80/",
    );
  });

  test("brackets an IPv6 address", () => {
    assert.equal(
      listeningLine({ hostname: "::1", port: 9 }, { runtime: "Deno", tls: false }),
      "Echo on Deno listening on ws://[::1]:9/",
    );
  });

  test("says wss:// with TLS", () => {
    assert.equal(
      listeningLine({ hostname: "127.0.0.1", port: 443 }, { runtime: "Bun", tls: true }),
      "Echo on Bun listening on wss://127.0.0.1:443/",
    );
    assert.equal(
      listeningLine({ hostname: "0.0.0.0", port: 8443 }, { runtime: "Deno", tls: true }),
      "Echo on Deno listening on wss://localhost:8443/ (all interfaces, 0.0.0.0)",
    );
  });

  test("the port can be read back from the line", () => {
    const line = listeningLine({ hostname: "0.0.0.0", port: 43210 }, deno);
    assert.equal(Number(/:(\d+)\//.exec(line)?.[1]), 43210);
  });
});

describe("startupFailure: a listener that could not open is one line naming the option", () => {
  const config = { port: 8181, host: "0.0.0.0" };
  /** An error as the runtime throws it: Deno's classes have a name, Bun's errors a code. */
  const error = (name: string, message: string, code?: string) =>
    Object.assign(new Error(message), { name }, code ? { code } : {});
  const cases: Array<[string, unknown, string]> = [
    [
      "Deno: the port in use",
      error("AddrInUse", "Address already in use (os error 98)", "EADDRINUSE"),
      "echo: PORT: 8181 is in use (AddrInUse); choose another with PORT=9000 or --port 9000",
    ],
    [
      "Bun: the port in use",
      error("Error", "Failed to start server. Is port 8181 in use?", "EADDRINUSE"),
      "echo: PORT: 8181 is in use (EADDRINUSE); choose another with PORT=9000 or --port 9000",
    ],
    [
      "Deno: a low port without the privilege",
      error("PermissionDenied", "Permission denied (os error 13)", "EACCES"),
      "echo: PORT: not allowed to listen on 80 (PermissionDenied): ports below 1024 need root or " +
      "CAP_NET_BIND_SERVICE; choose another with PORT=8181 or --port 8181",
    ],
    [
      "Bun: a low port without the privilege",
      error("Error", "permission denied 127.0.0.1:80", "EACCES"),
      "echo: PORT: not allowed to listen on 80 (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE; " +
      "choose another with PORT=8181 or --port 8181",
    ],
    [
      "Deno: a HOST that is not this machine's",
      error("AddrNotAvailable", "Cannot assign requested address (os error 99)", "EADDRNOTAVAIL"),
      'echo: HOST: cannot listen on "0.0.0.0", not an address of this machine (AddrNotAvailable); ' +
      "choose another with HOST=0.0.0.0 or --host 127.0.0.1",
    ],
    [
      "Deno: a HOST name that does not resolve",
      error("Error", "failed to lookup address information: Name or service not known"),
      'echo: HOST: cannot listen on "0.0.0.0", not an address of this machine (failed to lookup address ' +
      "information: Name or service not known); choose another with HOST=0.0.0.0 or --host 127.0.0.1",
    ],
    [
      "Deno: a key that is not the certificate's",
      error("Error", "keys may not be consistent: KeyMismatch"),
      "echo: TLS_KEY_FILE: not the key of TLS_CERT_FILE's certificate (keys may not be consistent: " +
      "KeyMismatch); give the key the certificate was issued for (--tls-key-file)",
    ],
    [
      "Bun: a key that is not the certificate's",
      error(
        "Error",
        "error:0b000074:X.509 certificate routines:OPENSSL_internal:KEY_VALUES_MISMATCH",
        "ERR_OSSL_X509_KEY_VALUES_MISMATCH",
      ),
      "echo: TLS_KEY_FILE: not the key of TLS_CERT_FILE's certificate (ERR_OSSL_X509_KEY_VALUES_MISMATCH); " +
      "give the key the certificate was issued for (--tls-key-file)",
    ],
    [
      "Deno: PEM text that holds no certificate",
      error("InvalidData", "No certificates found in certificate data"),
      "echo: TLS_CERT_FILE, TLS_KEY_FILE: not a usable certificate and key (No certificates found in " +
      "certificate data); check both files (--tls-cert-file, --tls-key-file)",
    ],
  ];
  for (const [what, thrown, line] of cases) {
    test(what, () => {
      const port = /PermissionDenied|EACCES/.test(line) ? 80 : 8181;
      assert.equal(startupFailure(thrown, { ...config, port }, true), line);
    });
  }

  test("the suggested port is never the one in use", () => {
    const inUse = error("AddrInUse", "Address already in use (os error 98)");
    assert.match(startupFailure(inUse, { ...config, port: 9000 }, false)!, /PORT=9001 or --port 9001$/);
  });

  test("an error start-up does not recognise is left to its stack trace", () => {
    assert.equal(startupFailure(new TypeError("x is not a function"), config, false), undefined);
    assert.equal(startupFailure(error("InvalidData", "No certificates found"), config, false), undefined);
  });
});
