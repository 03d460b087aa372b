/**
 * Start-up's reading of the command line on Bun: the name `--help` shows and what `loadConfig` needs.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { type CliOptions, loadConfig, type Settings, startupFailure } from "../lib/server/cli.ts";

/**
 * Whether this runs as a single executable (`bun build --compile`, `npm run build`): Bun serves the
 * bundled entry from its embedded file system, `/$bunfs/` on Linux and macOS (Bun docs, "Single-file
 * executable").
 */
const COMPILED = import.meta.path.startsWith("/$bunfs/");

/** The name `--help` and error lines use. */
export const PROGRAM = COMPILED ? basename(process.execPath) : "bun run bun/server.ts";

/** What `loadConfig` needs of Bun. */
export function cliOptions(program: string): CliOptions {
  return {
    env: process.env,
    program,
    exit: process.exit,
    readTextFile: (path) => readFileSync(path, "utf8"),
    isTerminal: process.stdout.isTTY === true,
  };
}

/** Reads flags and environment; exits 0 after `--help`, 2 after a bad option's one line. */
export function readSettings(args: readonly string[]): Settings {
  const settings = loadConfig(args, cliOptions(PROGRAM));
  if (settings.config.fleetUrl?.engine === "kv") {
    console.error("echo: FLEET_URL: kv: is Deno KV, which Bun does not have; use redis://host:port");
    process.exit(2);
  }
  if (settings.config.tlsCaFile !== null) {
    // Bun.serve can require a client certificate but gives the handler none (docs/deploy.md, "Mutual TLS").
    console.error(
      "echo: TLS_CA_FILE: mutual TLS is not available on Bun: Bun.serve can require a client " +
        "certificate but does not show it to the handler (oven-sh/bun#14097)",
    );
    process.exit(2);
  }
  return settings;
}

/**
 * The line for a listener that could not open (the port in use, a low port, a foreign HOST, an unusable
 * certificate), or the error itself again when start-up does not recognise it.
 */
export function failureLine(error: unknown, settings: Settings): string {
  const line = startupFailure(error, settings.config, settings.tls !== undefined);
  if (line === undefined) throw error;
  return line;
}
