/**
 * The start-up and shutdown steps both entries share: read the configuration, answer `--help`,
 * refuse bad values, say where Echo listens, and drain connections on a signal.
 *
 * @module
 */
import { type Config, ConfigError, type Env, helpText, parseConfig } from "./config.ts";
import type { Context } from "./context.ts";
import { CLOSE } from "./session.ts";

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

/** What graceful shutdown needs from the entry. */
export interface ShutdownOptions {
  /** Stops accepting connections; may resolve once the runtime's listener is closed. */
  stopListening(): Promise<void> | void;
  exit(code: number): never;
}

/**
 * Refuses new upgrades, sends every client close 1001 (never 1005), waits for the closing
 * handshakes up to SHUTDOWN_GRACE_SECONDS, stops the listener and exits 0.
 */
export async function shutDown(context: Context, options: ShutdownOptions): Promise<never> {
  if (context.hub.draining) {
    context.logger.flush();
    return options.exit(0); // a second signal: stop waiting
  }
  context.hub.draining = true;
  const live = context.hub.members.length;
  context.logger.log("info", "shutdown", { live, graceSeconds: context.config.shutdownGraceSeconds });
  context.hub.closeAll(CLOSE.GOING_AWAY, "server shutting down");
  const clean = await context.hub.whenEmpty(context.config.shutdownGraceSeconds * 1000);
  context.logger.log(clean ? "info" : "warn", "shutdown complete", { left: context.hub.members.length });
  await Promise.race([options.stopListening(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  // The other members stop waiting for this one's answers at once rather than after a heartbeat.
  for (const source of context.fleet) source.close();
  context.logger.flush();
  return options.exit(0);
}
