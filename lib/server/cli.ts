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
  return { cert: read(config.tlsCertFile, "TLS_CERT_FILE"), key: read(config.tlsKeyFile, "TLS_KEY_FILE") };
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
