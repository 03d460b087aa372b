/**
 * Start-up's reading of the command line: the configuration, `--help`, a bad value's one-line error,
 * the TLS files, and the line that says where Echo listens.
 *
 * @module
 */
import { type Config, ConfigError, type Env, helpText, parseConfig } from "../config.ts";

/** PEM text of a certificate and its key. */
export interface Tls {
  cert: string;
  key: string;
}

/** The configuration plus what start-up read from files. */
export interface Settings {
  config: Config;
  /** Present when TLS_CERT_FILE and TLS_KEY_FILE were given and read. */
  tls: Tls | undefined;
  /** `config.logFormat` with `auto` decided. */
  logFormat: "json" | "pretty";
}

/** What an entry hands over so that this module stays free of runtime globals. */
export interface CliOptions {
  env: Env;
  /** Name shown in the usage line, e.g. `deno run -A main.ts`. */
  program: string;
  /** Ends the process; the entries pass their runtime's exit. */
  exit(code: number): never;
  readTextFile(path: string): string;
  /** Whether stdout is a terminal (decides `LOG_FORMAT=auto`). */
  isTerminal: boolean;
  print?(line: string): void;
  printError?(line: string): void;
}

/**
 * Returns the settings to serve with, or exits: 0 after `--help`,
 * 2 after a one-line error naming the bad option.
 */
export function loadConfig(args: readonly string[], options: CliOptions): Settings {
  const print = options.print ?? console.log;
  const printError = options.printError ?? console.error;
  try {
    const config = parseConfig(args, options.env);
    if (config === "help") {
      print(helpText(options.program));
      return options.exit(0);
    }
    const logFormat = config.logFormat === "auto"
      ? (options.isTerminal ? "pretty" : "json")
      : config.logFormat;
    return { config, tls: readTls(config, options), logFormat };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    printError(`echo: ${error.message}`);
    return options.exit(2);
  }
}

function readTls(config: Config, options: CliOptions): Tls | undefined {
  if (config.tlsCertFile === null || config.tlsKeyFile === null) return undefined;
  const read = (path: string, name: string) => {
    try {
      return options.readTextFile(path);
    } catch (error) {
      throw new ConfigError(
        `${name}: cannot read ${JSON.stringify(path)}: ${reason(error)}`,
      );
    }
  };
  const tls = {
    cert: read(config.tlsCertFile, "TLS_CERT_FILE"),
    key: read(config.tlsKeyFile, "TLS_KEY_FILE"),
  };
  // Checked here, file by file: the runtimes' own errors do not always say which of the two is wrong.
  if (!/-----BEGIN CERTIFICATE-----/.test(tls.cert)) {
    throw new ConfigError(`TLS_CERT_FILE: ${JSON.stringify(config.tlsCertFile)} holds no PEM certificate`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(tls.key)) {
    throw new ConfigError(`TLS_KEY_FILE: ${JSON.stringify(config.tlsKeyFile)} holds no PEM private key`);
  }
  return tls;
}

function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}

/** The one line printed once the listener is up; tests read the port from it. */
export function listeningLine(
  address: { hostname: string; port: number },
  options: { runtime: string; tls: boolean },
): string {
  const wildcard = address.hostname === "0.0.0.0" || address.hostname === "::";
  const host = wildcard
    ? "localhost"
    : address.hostname.includes(":")
    ? `[${address.hostname}]`
    : address.hostname;
  const bound = wildcard ? ` (all interfaces, ${address.hostname})` : "";
  return `Echo on ${options.runtime} listening on ${
    options.tls ? "wss" : "ws"
  }://${host}:${address.port}/${bound}`;
}

/** What start-up knows of a listener that could not open: its error's runtime name or code, its text. */
interface ListenError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
}

/**
 * The one line for a listener that could not open, naming the cause and the option that changes it, as a
 * bad option's line does; `undefined` for an error start-up does not recognise (a bug, whose stack trace is
 * worth more than a line). The entries print it and exit 2. Both runtimes' errors: Deno's by class name
 * (`AddrInUse`, `PermissionDenied`, `AddrNotAvailable`, `InvalidData`), Bun's by code (`EADDRINUSE`,
 * `EACCES`, `EADDRNOTAVAIL`, `ERR_OSSL_…`).
 */
export function startupFailure(
  error: unknown,
  config: Pick<Config, "port" | "host">,
  tls: boolean,
): string | undefined {
  const { name, code, message } = (typeof error === "object" && error !== null ? error : {}) as ListenError;
  const text = typeof message === "string" ? message.split("\n")[0] : String(error);
  // The runtime's own word for it, as its documentation spells it.
  const kind = typeof name === "string" && name !== "Error" ? name : typeof code === "string" ? code : "";
  const is = (deno: string, posix: string) => name === deno || code === posix;
  const because = kind ? ` (${kind})` : ` (${text})`;
  const port = config.port;
  const other = port === 9000 ? 9001 : 9000;
  if (is("AddrInUse", "EADDRINUSE")) {
    return `echo: PORT: ${port} is in use${because}; choose another with PORT=${other} or --port ${other}`;
  }
  if (is("PermissionDenied", "EACCES")) {
    const low = port < 1024;
    const free = low ? 8181 : other;
    return `echo: PORT: not allowed to listen on ${port}${because}` +
      `${low ? ": ports below 1024 need root or CAP_NET_BIND_SERVICE" : ""}; ` +
      `choose another with PORT=${free} or --port ${free}`;
  }
  if (is("AddrNotAvailable", "EADDRNOTAVAIL") || /lookup address|Name or service not known/i.test(text)) {
    return `echo: HOST: cannot listen on ${JSON.stringify(config.host)}, not an address of this machine` +
      `${because}; choose another with HOST=0.0.0.0 or --host 127.0.0.1`;
  }
  const tlsError = name === "InvalidData" || /^ERR_OSSL/.test(String(code)) || /certificate|key/i.test(text);
  if (tls && tlsError) {
    if (/mismatch|not be consistent/i.test(text)) {
      return `echo: TLS_KEY_FILE: not the key of TLS_CERT_FILE's certificate${because}; ` +
        "give the key the certificate was issued for (--tls-key-file)";
    }
    return `echo: TLS_CERT_FILE, TLS_KEY_FILE: not a usable certificate and key (${text}); ` +
      "check both files (--tls-cert-file, --tls-key-file)";
  }
  return undefined;
}
