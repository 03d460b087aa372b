import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Config, ConfigError, DEFAULTS, flagOf, helpText, OPTIONS, parseConfig } from "./config.ts";
import { LOG_LEVELS } from "./log.ts";

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

/** The defaults with some values changed: what a parse is expected to give. */
function expected(changes: Partial<Config>): Config {
  return { ...DEFAULTS, ...changes };
}

const MIB = 1024 * 1024;

describe("DEFAULTS", () => {
  test("are the documented ones", () => {
    assert.deepEqual({ ...DEFAULTS }, {
      port: 8181,
      host: "0.0.0.0",
      maxMessageBytes: 16 * MIB,
      maxBufferedBytes: 16 * MIB,
      idleTimeoutSeconds: 120,
      maxConnections: 10_000,
      allowedOrigins: null,
      shutdownGraceSeconds: 10,
      tlsCertFile: null,
      tlsKeyFile: null,
      tlsCaFile: null,
      defaultStatus: 200,
      responseHeaders: [],
      logFormat: "auto",
      logLevel: "info",
      deflate: "shared",
      infoDetails: "public",
      infoLimit: 25,
      trustProxy: null,
      workers: 1,
      knobs: "on",
      fleetUrl: null,
    });
  });
});

describe("OPTIONS and flagOf", () => {
  test("flagOf turns the variable into a lower-case dashed flag", () => {
    assert.equal(flagOf("PORT"), "--port");
    assert.equal(flagOf("MAX_MESSAGE_BYTES"), "--max-message-bytes");
    assert.equal(flagOf("TLS_CERT_FILE"), "--tls-cert-file");
  });

  test("every Config key has exactly one option, and every variable is distinct", () => {
    assert.deepEqual(Object.keys(OPTIONS).sort(), Object.keys(DEFAULTS).sort());
    const options = Object.values(OPTIONS);
    assert.equal(new Set(options.map((o) => o.env)).size, options.length);
  });
});

describe("parseConfig: PORT and HOST", () => {
  test("gives the defaults when nothing is set", () => {
    assert.deepEqual(parse([], {}), DEFAULTS);
  });

  test("returns a fresh object that does not alias DEFAULTS", () => {
    const config = parse([], {});
    config.port = 1;
    assert.equal(DEFAULTS.port, 8181);
    assert.notEqual(parse([], {}), parse([], {}));
  });

  test("reads PORT and HOST from the environment", () => {
    assert.deepEqual(
      parse([], { PORT: "9000", HOST: "127.0.0.1" }),
      expected({ port: 9000, host: "127.0.0.1" }),
    );
  });

  test("ignores empty and undefined environment variables", () => {
    assert.deepEqual(parse([], { PORT: "", HOST: undefined, MAX_CONNECTIONS: "" }), DEFAULTS);
  });

  test("ignores unrelated environment variables", () => {
    assert.deepEqual(parse([], { port: "1", ECHO_PORT: "2", PATH: "/bin" }), DEFAULTS);
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

  test("a flag replaces its variable, which is then not even validated", () => {
    assert.equal(parse(["--port", "3000"], { PORT: "abc" }).port, 3000);
    assert.equal(parse(["--log-level=warn"], { LOG_LEVEL: "loud" }).logLevel, "warn");
  });

  test("each option is resolved on its own", () => {
    assert.deepEqual(
      parse(["--port", "3000"], { HOST: "127.0.0.1" }),
      expected({ port: 3000, host: "127.0.0.1" }),
    );
    assert.deepEqual(parse(["--host", "h"], { PORT: "2000" }), expected({ port: 2000, host: "h" }));
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

  for (const bad of ["abc", "70000", "65536", "-1", "1.5", " 80", "80 ", "0x10", "1e3", "123456"]) {
    test(`refuses port ${JSON.stringify(bad)} from the flag, naming --port`, () => {
      const error = assertRefused(["--port", bad], {}, "--port");
      assert.ok(error.message.includes(JSON.stringify(bad)), error.message);
      assertRefused([`--port=${bad}`], {}, "--port");
    });
  }

  for (const bad of ["abc", "70000", "-1", "1.5"]) {
    test(`refuses PORT=${JSON.stringify(bad)}, naming PORT and the range`, () => {
      const error = assertRefused([], { PORT: bad }, "PORT");
      assert.equal(
        error.message,
        `PORT: expected a whole number from 0 to 65535, got ${JSON.stringify(bad)}`,
      );
    });
  }

  for (const bad of ["a b", " ", "\t"]) {
    test(`refuses host ${JSON.stringify(bad)}`, () => {
      assertRefused(["--host", bad], {}, "--host");
      assertRefused([], { HOST: bad }, "HOST");
    });
  }

  // An empty value given on purpose as a flag is a mistake, unlike an empty variable inherited
  // from the environment: it must not silently start Echo with the default.
  for (const args of [["--port", ""], ["--port="], ["--host="], ["--max-connections="]]) {
    test(`refuses the empty flag value ${JSON.stringify(args)}`, () => {
      assertRefused(args, {}, args[0].replace(/=.*/, ""));
    });
  }

  test("refuses a flag with no value, naming it", () => {
    const error = assertRefused(["--port"], {}, "--port");
    assert.equal(error.message, "--port: missing value");
    assert.equal(assertRefused(["--port", "1", "--host"], {}, "--host").message, "--host: missing value");
  });

  test("refuses unknown options, naming them", () => {
    const error = assertRefused(["--bogus"], {}, "--bogus");
    assert.equal(error.message, "--bogus: unknown option (see --help)");
    assertRefused(["--bogus=1"], {}, "--bogus");
    assertRefused(["8080"], {}, "8080");
    assertRefused(["-p", "1"], {}, "-p");
    assertRefused(["--PORT", "1"], {}, "--PORT");
    assertRefused(["--max_message_bytes", "1"], {}, "--max_message_bytes");
  });

  test('--help and -h give "help", whatever else is wrong', () => {
    assert.equal(parseConfig(["--help"], {}), "help");
    assert.equal(parseConfig(["-h"], {}), "help");
    assert.equal(parseConfig(["--port", "1", "--help"], {}), "help");
    assert.equal(parseConfig(["-h", "--bogus"], {}), "help");
    assert.equal(parseConfig(["--bogus", "--help"], {}), "help");
    assert.equal(parseConfig(["--port", "abc", "--help"], { MAX_CONNECTIONS: "0" }), "help");
    assert.equal(parseConfig(["--help"], { TLS_CERT_FILE: "only-a-cert.pem" }), "help");
  });
});

/** Whole-number options: variable, key, smallest and largest accepted value. */
const NUMBERS: Array<[string, keyof Config, number, number]> = [
  ["MAX_MESSAGE_BYTES", "maxMessageBytes", 0, 2 ** 32 - 1],
  ["MAX_BUFFERED_BYTES", "maxBufferedBytes", 1024, 2 ** 32 - 1],
  ["IDLE_TIMEOUT_SECONDS", "idleTimeoutSeconds", 0, 960],
  ["MAX_CONNECTIONS", "maxConnections", 1, 1_000_000],
  ["INFO_LIMIT", "infoLimit", 1, 1000],
  ["SHUTDOWN_GRACE_SECONDS", "shutdownGraceSeconds", 0, 600],
];

describe("parseConfig: whole-number options", () => {
  for (const [env, key, min, max] of NUMBERS) {
    const flag = flagOf(env);

    test(`${env} and ${flag} set ${key}`, () => {
      const value = min + 7;
      assert.deepEqual(parse([], { [env]: String(value) }), expected({ [key]: value }));
      assert.deepEqual(parse([flag, String(value)]), expected({ [key]: value }));
      assert.deepEqual(parse([`${flag}=${value}`], { [env]: String(value + 1) }), expected({ [key]: value }));
    });

    test(`${env} accepts its bounds ${min} and ${max}`, () => {
      assert.equal(parse([], { [env]: String(min) })[key], min);
      assert.equal(parse([flag, String(max)])[key], max);
    });

    test(`${env} refuses values outside ${min}..${max} and non-numbers, naming the source`, () => {
      const bads = [String(max + 1), "-1", "1.5", "abc", "1e3", " 1"];
      if (min > 0) bads.push(String(min - 1));
      for (const bad of bads) {
        const error = assertRefused([], { [env]: bad }, env);
        assert.equal(
          error.message,
          `${env}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(bad)}`,
        );
        assertRefused([flag, bad], {}, flag);
      }
    });
  }
});

describe("parseConfig: ALLOWED_ORIGINS", () => {
  test("unset allows any origin (null)", () => {
    assert.equal(parse([]).allowedOrigins, null);
    assert.equal(parse([], { ALLOWED_ORIGINS: "" }).allowedOrigins, null);
  });

  test("is a comma list, trimmed and lower-cased, from the variable or the flag", () => {
    const want = ["https://example.com", "http://localhost:3000", "null"];
    const raw = " HTTPS://Example.COM ,http://localhost:3000,,null ";
    assert.deepEqual(parse([], { ALLOWED_ORIGINS: raw }).allowedOrigins, want);
    assert.deepEqual(parse(["--allowed-origins", raw]).allowedOrigins, want);
    assert.deepEqual(parse([`--allowed-origins=${raw}`]).allowedOrigins, want);
  });

  test("accepts one origin", () => {
    assert.deepEqual(parse([], { ALLOWED_ORIGINS: "https://a.test" }).allowedOrigins, ["https://a.test"]);
  });

  for (
    const bad of [
      "example.com",
      "https://example.com/",
      "https://example.com/path",
      "ftp://example.com",
      "https://",
      "*",
      "https://a.test, ws://b.test",
    ]
  ) {
    test(`refuses ${JSON.stringify(bad)}, naming the option and the bad entry`, () => {
      const error = assertRefused([], { ALLOWED_ORIGINS: bad }, "ALLOWED_ORIGINS");
      assert.ok(error.message.includes("https://example.com"), error.message);
      assertRefused(["--allowed-origins", bad], {}, "--allowed-origins");
    });
  }
});

describe("parseConfig: TLS", () => {
  test("both files from the variables or the flags", () => {
    const want = expected({ tlsCertFile: "/etc/echo/cert.pem", tlsKeyFile: "/etc/echo/key.pem" });
    assert.deepEqual(
      parse([], { TLS_CERT_FILE: "/etc/echo/cert.pem", TLS_KEY_FILE: "/etc/echo/key.pem" }),
      want,
    );
    assert.deepEqual(
      parse(["--tls-cert-file", "/etc/echo/cert.pem", "--tls-key-file=/etc/echo/key.pem"]),
      want,
    );
    assert.deepEqual(
      parse(["--tls-cert-file", "/etc/echo/cert.pem"], { TLS_KEY_FILE: "/etc/echo/key.pem" }),
      want,
      "a flag and a variable make a pair",
    );
  });

  test("one without the other is refused, naming both", () => {
    for (
      const [args, env] of [
        [[], { TLS_CERT_FILE: "cert.pem" }],
        [[], { TLS_KEY_FILE: "key.pem" }],
        [["--tls-cert-file", "cert.pem"], {}],
        [["--tls-key-file=key.pem"], {}],
      ] as Array<[string[], Record<string, string>]>
    ) {
      const error = assertRefused(args, env, "TLS_CERT_FILE and TLS_KEY_FILE");
      assert.equal(error.message, "TLS_CERT_FILE and TLS_KEY_FILE: set both or neither");
    }
  });

  test("a path with whitespace is refused", () => {
    assertRefused([], { TLS_CERT_FILE: "my cert.pem", TLS_KEY_FILE: "key.pem" }, "TLS_CERT_FILE");
    assertRefused(["--tls-key-file", " "], { TLS_CERT_FILE: "cert.pem" }, "--tls-key-file");
  });
});

describe("parseConfig: TLS_CA_FILE", () => {
  test("is read beside the certificate and key (each entry then refuses it: docs/deploy.md)", () => {
    const env = { TLS_CERT_FILE: "cert.pem", TLS_KEY_FILE: "key.pem" };
    assert.equal(parse([], { ...env, TLS_CA_FILE: "ca.pem" }).tlsCaFile, "ca.pem");
    assert.equal(parse(["--tls-ca-file", "ca.pem"], env).tlsCaFile, "ca.pem");
  });

  test("without TLS_CERT_FILE and TLS_KEY_FILE it is refused in one line", () => {
    const error = assertRefused([], { TLS_CA_FILE: "ca.pem" }, "TLS_CA_FILE");
    assert.equal(error.message, "TLS_CA_FILE: mutual TLS needs TLS_CERT_FILE and TLS_KEY_FILE too");
  });
});

describe("parseConfig: DEFAULT_STATUS and RESPONSE_HEADERS", () => {
  test("DEFAULT_STATUS is a status from 200 to 599", () => {
    assert.equal(parse([], { DEFAULT_STATUS: "404" }).defaultStatus, 404);
    assert.equal(parse(["--default-status=204"]).defaultStatus, 204);
    for (const bad of ["199", "600", "ok", "1e3"]) {
      assertRefused([], { DEFAULT_STATUS: bad }, "DEFAULT_STATUS");
    }
  });

  test("RESPONSE_HEADERS is one Name: value per line; blank lines and a CR before the break are skipped", () => {
    assert.deepEqual(
      parse([], { RESPONSE_HEADERS: "X-A: 1\r\n\nContent-Type: text/plain; charset=utf-8\nX-A:2\n" })
        .responseHeaders,
      [["X-A", "1"], ["Content-Type", "text/plain; charset=utf-8"], ["X-A", "2"]],
    );
    assert.deepEqual(parse(["--response-headers", "Server: echo"]).responseHeaders, [["Server", "echo"]]);
    assert.deepEqual(parse([], { RESPONSE_HEADERS: "X-Empty:" }).responseHeaders, [["X-Empty", ""]]);
  });

  for (
    const [raw, says] of [
      ["X-A 1", /expected lines of Name: value/],
      ["Bad Name: 1", /the name an HTTP token/],
      ["Content-Length: 5", /Content-Length frames the message/],
      ["transfer-encoding: chunked", /frames the message/],
      ["X-A: caf\u00e9 \u2603", /Latin-1/],
      ["X-A: a\rb", /without CR/],
      [`X-A: ${"v".repeat(4097)}`, /at most 4096/],
      [Array.from({ length: 33 }, (_, i) => `X-${i}: ${i}`).join("\n"), /at most 32 lines/],
    ] as const
  ) {
    test(`RESPONSE_HEADERS ${JSON.stringify(raw.slice(0, 30))} is refused: ${says.source}`, () => {
      const error = assertRefused([], { RESPONSE_HEADERS: raw }, "RESPONSE_HEADERS");
      assert.match(error.message, says);
      assertRefused(["--response-headers", raw], {}, "--response-headers");
    });
  }
});

describe("parseConfig: LOG_FORMAT and LOG_LEVEL", () => {
  for (const format of ["json", "pretty", "auto"] as const) {
    test(`LOG_FORMAT=${format}`, () => {
      assert.equal(parse([], { LOG_FORMAT: format }).logFormat, format);
      assert.equal(parse(["--log-format", format]).logFormat, format);
    });
  }

  for (const level of LOG_LEVELS) {
    test(`LOG_LEVEL=${level}`, () => {
      assert.equal(parse([], { LOG_LEVEL: level }).logLevel, level);
      assert.equal(parse([`--log-level=${level}`]).logLevel, level);
    });
  }

  test("LOG_LEVELS run from most to least verbose", () => {
    assert.deepEqual([...LOG_LEVELS], ["debug", "info", "warn", "error"]);
  });

  for (
    const [env, bad] of [["LOG_FORMAT", "JSON"], ["LOG_FORMAT", "text"], ["LOG_LEVEL", "INFO"], [
      "LOG_LEVEL",
      "trace",
    ]]
  ) {
    test(`refuses ${env}=${bad}, listing the choices`, () => {
      const error = assertRefused([], { [env]: bad }, env);
      assert.match(error.message, /expected one of /);
      assertRefused([flagOf(env), bad], {}, flagOf(env));
    });
  }
});

describe("helpText", () => {
  const help = helpText("echo-prog");
  const lines = help.split("\n");

  test("shows the program in the usage line", () => {
    assert.ok(help.includes("Usage: echo-prog [options]"), help);
  });

  test("lists every option with its flag, variable and default", () => {
    for (const option of Object.values(OPTIONS)) {
      const at = lines.indexOf(`  ${flagOf(option.env)} <value>`);
      assert.ok(at >= 0, `${flagOf(option.env)} is listed`);
      assert.ok(lines[at + 1].startsWith(`      ${option.env}: `), lines[at + 1]);
      assert.match(lines[at + 1], /\(default [^)]+\)$/);
    }
    assert.ok(lines.includes("      PORT: TCP port to listen on (0 picks a free port) (default 8181)"), help);
    assert.ok(lines.some((l) => l.startsWith("      HOST: ") && l.endsWith("(default 0.0.0.0)")), help);
    assert.ok(
      lines.some((l) => l.startsWith("      ALLOWED_ORIGINS: ") && l.endsWith("(default unset)")),
      help,
    );
    assert.ok(
      lines.some((l) => l.startsWith("      MAX_MESSAGE_BYTES: ") && l.endsWith("(default 16777216)")),
      help,
    );
    assert.match(help, /^ {2}--help\n {6}print this help and exit$/m);
    assert.ok(help.includes("flags win"), help);
  });

  test("fits in the line width", () => {
    for (const line of lines) assert.ok(line.length <= 110, `${line.length} characters: ${line}`);
  });
});

describe("TRUST_PROXY and WORKERS", () => {
  test("are off and 1 by default", () => {
    assert.equal(parse([]).trustProxy, null);
    assert.equal(parse([]).workers, 1);
  });

  test("TRUST_PROXY names a header and optionally hops", () => {
    assert.deepEqual(parse([], { TRUST_PROXY: "x-forwarded-for" }).trustProxy, {
      header: "x-forwarded-for",
      hops: 1,
    });
    assert.deepEqual(parse(["--trust-proxy", "forwarded:2"]).trustProxy, { header: "forwarded", hops: 2 });
    assert.equal(parse(["--trust-proxy=off"], { TRUST_PROXY: "forwarded" }).trustProxy, null);
    assert.throws(() => parse([], { TRUST_PROXY: "yes" }), /^ConfigError: TRUST_PROXY: expected off, /);
  });

  test("WORKERS: a count, 0 or auto for one per core", () => {
    assert.equal(parse(["--workers", "4"]).workers, 4);
    assert.equal(parse([], { WORKERS: "auto" }).workers, 0);
    assert.equal(parse([], { WORKERS: "0" }).workers, 0);
    assert.throws(() => parse([], { WORKERS: "-1" }), /^ConfigError: WORKERS: expected a whole number/);
  });
});
