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
}

/** The settings Echo starts with when nothing overrides them. */
export const DEFAULTS: Readonly<Config> = { port: 8181, host: "0.0.0.0" };

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
];

function parsePort(raw: string, source: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new ConfigError(`${source}: expected a port from 0 to 65535, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** The text `--help` prints: every option with its flag, variable and default. */
export function helpText(program: string): string {
  const rows = OPTIONS.map((o) => {
    const name = o.flag.slice(2) as keyof Config;
    return `  ${`${o.flag} <value>`.padEnd(18)} ${o.env.padEnd(6)} ${o.meaning} (default ${DEFAULTS[name]})`;
  });
  return [
    `Echo: a WebSocket echo server.`,
    ``,
    `Usage: ${program} [options]`,
    ``,
    `  flag               env    meaning`,
    ...rows,
    `  ${"--help".padEnd(18)} ${"".padEnd(6)} print this help and exit`,
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
