/**
 * The start-up steps both entries share: read the configuration, answer `--help`,
 * refuse bad values, and say where Echo listens.
 *
 * @module
 */
import { type Config, ConfigError, type Env, helpText, parseConfig } from "./config.ts";

/** What an entry hands over so that this module stays free of runtime globals. */
export interface CliOptions {
  env: Env;
  /** Name shown in the usage line, e.g. `deno run -A main.ts`. */
  program: string;
  /** Ends the process; the entries pass their runtime's exit. */
  exit(code: number): never;
  print?(line: string): void;
  printError?(line: string): void;
}

/**
 * Returns the configuration to serve with, or exits: 0 after `--help`,
 * 2 after a one-line error naming the bad option.
 */
export function loadConfig(args: readonly string[], options: CliOptions): Config {
  const print = options.print ?? console.log;
  const printError = options.printError ?? console.error;
  try {
    const config = parseConfig(args, options.env);
    if (config !== "help") return config;
    print(helpText(options.program));
    return options.exit(0);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    printError(`echo: ${error.message}`);
    return options.exit(2);
  }
}

/** The one line printed once the listener is up; tests read the port from it. */
export function listeningLine(address: { hostname: string; port: number }, runtime: string): string {
  const wildcard = address.hostname === "0.0.0.0" || address.hostname === "::";
  const host = wildcard
    ? "localhost"
    : address.hostname.includes(":")
    ? `[${address.hostname}]`
    : address.hostname;
  const bound = wildcard ? ` (all interfaces, ${address.hostname})` : "";
  return `Echo on ${runtime} listening on ws://${host}:${address.port}/${bound}`;
}
