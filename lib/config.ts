import { DEFLATE_MODES, type DeflateMode } from "./deflate.ts";

/**
 * Echo's configuration: read once at startup from flags and the environment.
 * Flags win over the environment, which wins over the defaults.
 *
 * @module
 */

/** Everything an entry needs to start serving. */
export interface Config {
  /** TCP port; 0 asks the OS for a free one (tests use it). */
  port: number;
  /** Interface to bind. */
  host: string;
  /** permessage-deflate compressor Bun negotiates with (Deno cannot deflate). */
  deflate: DeflateMode;
  /** What `/info` shows of other clients' connections. */
  infoDetails: InfoDetails;
}

/** `public`: other connections without address, tag or identifying headers; `full`: everything. */
export type InfoDetails = "public" | "full";

/** The settings Echo starts with when nothing overrides them. */
export const DEFAULTS: Readonly<Config> = {
  port: 8181,
  host: "0.0.0.0",
  deflate: "shared",
  infoDetails: "public",
};

/** A value that cannot be used; `message` is one line naming the option. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

interface Option {
  flag: string;
  env: keyof Env & string;
  meaning: string;
  apply(config: Config, raw: string, source: string): void;
}

/** The environment variables Echo reads. */
export type Env = Record<string, string | undefined>;

const OPTIONS: Option[] = [
  {
    flag: "--port",
    env: "PORT",
    meaning: "TCP port to listen on (0 picks a free port)",
    apply(config, raw, source) {
      config.port = parsePort(raw, source);
    },
  },
  {
    flag: "--host",
    env: "HOST",
    meaning: "interface to bind",
    apply(config, raw, source) {
      if (raw.trim() === "" || /\s/.test(raw)) {
        throw new ConfigError(`${source}: expected a host name or address, got ${JSON.stringify(raw)}`);
      }
      config.host = raw;
    },
  },
  {
    flag: "--deflate",
    env: "DEFLATE",
    meaning: `permessage-deflate on Bun: ${DEFLATE_MODES.join(", ")}`,
    apply(config, raw, source) {
      config.deflate = oneOf(DEFLATE_MODES, raw, source);
    },
  },
  {
    flag: "--info-details",
    env: "INFO_DETAILS",
    meaning: "what /info shows of other clients: public, full",
    apply(config, raw, source) {
      config.infoDetails = oneOf(["public", "full"] as const, raw, source);
    },
  },
];

function oneOf<T extends string>(values: readonly T[], raw: string, source: string): T {
  if (!(values as readonly string[]).includes(raw)) {
    throw new ConfigError(`${source}: expected one of ${values.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

function parsePort(raw: string, source: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new ConfigError(`${source}: expected a port from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** The text `--help` prints: every option with its flag, variable and default. */
export function helpText(program: string): string {
  const envWidth = Math.max(...OPTIONS.map((o) => o.env.length));
  const rows = OPTIONS.map((o) => {
    const name = o.flag.slice(2).replace(/-(.)/g, (_, c: string) => c.toUpperCase()) as keyof Config;
    return `  ${`${o.flag} <value>`.padEnd(22)} ${o.env.padEnd(envWidth)} ${o.meaning} (default ${
      DEFAULTS[name]
    })`;
  });
  return [
    `Echo: a WebSocket echo server.`,
    ``,
    `Usage: ${program} [options]`,
    ``,
    `  ${"flag".padEnd(22)} ${"env".padEnd(envWidth)} meaning`,
    ...rows,
    `  ${"--help".padEnd(22)} ${"".padEnd(envWidth)} print this help and exit`,
    ``,
    `Flags override environment variables.`,
  ].join("\n");
}

/**
 * Builds the configuration from command-line flags and environment variables.
 * Accepts `--port 1`, `--port=1`; throws {@link ConfigError} for anything unknown or invalid.
 * Returns `"help"` when `--help` or `-h` was given.
 */
export function parseConfig(args: readonly string[], env: Env): Config | "help" {
  const config: Config = { ...DEFAULTS };
  for (const option of OPTIONS) {
    const raw = env[option.env];
    if (raw !== undefined && raw !== "") option.apply(config, raw, option.env);
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") return "help";
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg];
    const option = OPTIONS.find((o) => o.flag === flag);
    if (!option) throw new ConfigError(`${arg}: unknown option (see --help)`);
    const raw = inline ?? args[++i];
    if (raw === undefined) throw new ConfigError(`${flag}: missing value`);
    option.apply(config, raw, flag);
  }
  return config;
}
