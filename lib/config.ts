/**
 * Echo's configuration: read once at startup from flags and the environment.
 * Flags win over the environment, which wins over the defaults. Every option has both forms:
 * `MAX_MESSAGE_BYTES=1024` or `--max-message-bytes 1024`.
 *
 * @module
 */

import { parseTrustProxy, type TrustProxy } from "./client_address.ts";
import { DEFLATE_MODES, type DeflateMode } from "./deflate.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { type FleetUrl, parseFleetUrl, redactFleetUrl } from "./fleet_url.ts";

/** `public`: other connections without address, tag or identifying headers; `full`: everything. */
export type InfoDetails = "public" | "full";

/** Log output formats; `auto` means pretty on a terminal, JSON otherwise. */
export type LogFormat = "json" | "pretty" | "auto";

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
  /** Most connections `/info` lists per page in each of its lists (live, recent); `limit=` asks for fewer. */
  infoLimit: number;
  /** Largest message accepted, after decompression; larger ones close the connection with 1009. */
  maxMessageBytes: number;
  /** Largest amount of echo data queued for one client that does not read. */
  maxBufferedBytes: number;
  /** Seconds a client may stay silent (pings unanswered) before it is closed; 0 disables. */
  idleTimeoutSeconds: number;
  /** Live connections beyond which upgrades are refused with 503. */
  maxConnections: number;
  /** Origins a browser upgrade may come from; `null` allows any. */
  allowedOrigins: string[] | null;
  /** Seconds shutdown waits for closing handshakes. */
  shutdownGraceSeconds: number;
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** The forwarding header the reverse proxy in front writes; `null`: such headers are ignored. */
  trustProxy: TrustProxy | null;
  /** Bun: processes sharing the port with reusePort; 0 means one per core. */
  workers: number;
  /** Whether a WebSocket URL's query may ask for test knobs (`?echo_delay=200`); `off` refuses them. */
  knobs: "on" | "off";
  /** The shared engine replicas find each other's connections through; `null`: this process alone. */
  fleetUrl: FleetUrl | null;
}

const MIB = 1024 * 1024;

/** The settings Echo starts with when nothing overrides them. */
export const DEFAULTS: Readonly<Config> = {
  port: 8181,
  host: "0.0.0.0",
  deflate: "shared",
  infoDetails: "public",
  infoLimit: 25,
  maxMessageBytes: 16 * MIB,
  maxBufferedBytes: 16 * MIB,
  idleTimeoutSeconds: 120,
  maxConnections: 10_000,
  allowedOrigins: null,
  shutdownGraceSeconds: 10,
  tlsCertFile: null,
  tlsKeyFile: null,
  logFormat: "auto",
  logLevel: "info",
  trustProxy: null,
  workers: 1,
  knobs: "on",
  fleetUrl: null,
};

/** A value that cannot be used; `message` is one line naming the option. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The environment variables Echo reads. */
export type Env = Record<string, string | undefined>;

type Parse<T> = (raw: string) => T;

interface Option<K extends keyof Config = keyof Config> {
  env: string;
  key: K;
  meaning: string;
  /** Returns the value, or throws an Error whose message says what was expected. */
  parse: Parse<Config[K]>;
  /** How a bad value is quoted in the error (a URL's password must not be). */
  quote?: (raw: string) => string;
}

function integer(min: number, max: number): Parse<number> {
  return (raw) => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new Error(`expected a whole number from ${min} to ${max}`);
    }
    return Number(raw);
  };
}

const workers: Parse<number> = (raw) => raw === "auto" ? 0 : integer(0, 1024)(raw);

function oneOf<T extends string>(values: readonly T[]): Parse<T> {
  return (raw) => {
    if (!values.includes(raw as T)) throw new Error(`expected one of ${values.join(", ")}`);
    return raw as T;
  };
}

function word(what: string): Parse<string> {
  return (raw) => {
    if (raw.trim() === "" || /\s/.test(raw)) throw new Error(`expected ${what}`);
    return raw;
  };
}

const origins: Parse<string[]> = (raw) => {
  const list = raw.split(",").map((o) => o.trim().toLowerCase()).filter((o) => o !== "");
  if (list.length === 0) throw new Error("expected at least one origin");
  const bad = list.find((o) => o !== "null" && !/^https?:\/\/[^/\s?#]+$/.test(o));
  if (bad !== undefined) {
    throw new Error(`expected origins like https://example.com, not ${JSON.stringify(bad)}`);
  }
  return list;
};

function option<K extends keyof Config>(
  env: string,
  key: K,
  meaning: string,
  parse: Parse<Config[K]>,
  quote?: (raw: string) => string,
): Option {
  return { env, key, meaning, parse, quote } as unknown as Option;
}

/** Every option, in the order `--help` lists them. */
export const OPTIONS: readonly Option[] = [
  option("PORT", "port", "TCP port to listen on (0 picks a free port)", integer(0, 65535)),
  option("HOST", "host", "interface to bind", word("a host name or address")),
  option(
    "DEFLATE",
    "deflate",
    `permessage-deflate on Bun: ${DEFLATE_MODES.join(", ")}`,
    oneOf(DEFLATE_MODES),
  ),
  option(
    "INFO_DETAILS",
    "infoDetails",
    "what /info shows of other clients: public, full",
    oneOf(["public", "full"]),
  ),
  option(
    "INFO_LIMIT",
    "infoLimit",
    "most connections per /info page, in each of live and recent",
    integer(1, 1000),
  ),
  option(
    "MAX_MESSAGE_BYTES",
    "maxMessageBytes",
    "largest message accepted; larger closes with 1009",
    integer(0, 2 ** 32 - 1),
  ),
  option(
    "MAX_BUFFERED_BYTES",
    "maxBufferedBytes",
    "queued echo bytes per slow reader: Bun pauses, Deno closes 1008",
    integer(1024, 2 ** 32 - 1),
  ),
  option(
    "IDLE_TIMEOUT_SECONDS",
    "idleTimeoutSeconds",
    "silence before a client is closed, 1001 (pinged at half); 0: off",
    integer(0, 960),
  ),
  option(
    "MAX_CONNECTIONS",
    "maxConnections",
    "live connections beyond which upgrades get 503",
    integer(1, 1_000_000),
  ),
  option(
    "ALLOWED_ORIGINS",
    "allowedOrigins",
    "comma list of browser origins allowed, WebSocket and CORS (unset: any)",
    origins,
  ),
  option(
    "SHUTDOWN_GRACE_SECONDS",
    "shutdownGraceSeconds",
    "wait for closing handshakes on SIGTERM/SIGINT",
    integer(0, 600),
  ),
  option(
    "TLS_CERT_FILE",
    "tlsCertFile",
    "PEM certificate: serve wss:// and https:// (with TLS_KEY_FILE)",
    word("a file path"),
  ),
  option("TLS_KEY_FILE", "tlsKeyFile", "PEM private key for TLS_CERT_FILE", word("a file path")),
  option(
    "LOG_FORMAT",
    "logFormat",
    "json, pretty, or auto (pretty on a terminal)",
    oneOf(["json", "pretty", "auto"] as const),
  ),
  option("LOG_LEVEL", "logLevel", "debug, info, warn or error", oneOf(LOG_LEVELS)),
  option(
    "TRUST_PROXY",
    "trustProxy",
    "client address from proxy header: x-forwarded-for, forwarded[:HOPS]",
    parseTrustProxy,
  ),
  option(
    "WORKERS",
    "workers",
    "Bun: processes sharing the port, 0 = all cores (Deno: deno serve --parallel)",
    workers,
  ),
  option(
    "KNOBS",
    "knobs",
    "test knobs (?echo_delay=200) for WebSocket, HTTP echo, SSE: on, or off (403)",
    oneOf(["on", "off"] as const),
  ),
  option(
    "FLEET_URL",
    "fleetUrl",
    "replicas share /info through redis://[user:pass@]host:port[/db] or kv:[path]",
    parseFleetUrl,
    redactFleetUrl,
  ),
];

/** The flag that sets the option read from `env`: `MAX_MESSAGE_BYTES` → `--max-message-bytes`. */
export function flagOf(env: string): string {
  return `--${env.toLowerCase().replaceAll("_", "-")}`;
}

function show(value: unknown): string {
  if (value === null) return "unset";
  if (typeof value === "object" && "header" in value) return `${value.header}:${(value as TrustProxy).hops}`;
  return Array.isArray(value) ? value.join(",") : String(value);
}

/** The text `--help` prints: every option with its flag, variable and default. */
export function helpText(program: string): string {
  const rows = OPTIONS.flatMap((o) => [
    `  ${flagOf(o.env)} <value>`,
    `      ${o.env}: ${o.meaning} (default ${show(DEFAULTS[o.key])})`,
  ]);
  return [
    `Echo: a WebSocket echo server.`,
    ``,
    `Usage: ${program} [options]`,
    `       ${program} healthcheck [options]   exit 0 if the server these options describe answers /healthz`,
    ``,
    `Options (each also read from the environment variable shown; flags win):`,
    ...rows,
    `  --help`,
    `      print this help and exit`,
  ].join("\n");
}

function apply(config: Config, option: Option, raw: string, source: string): void {
  try {
    (config as unknown as Record<string, unknown>)[option.key] = option.parse(raw);
  } catch (error) {
    const quoted = option.quote ? option.quote(raw) : raw;
    throw new ConfigError(`${source}: ${(error as Error).message}, got ${JSON.stringify(quoted)}`);
  }
}

/**
 * Builds the configuration from command-line flags and environment variables.
 * Accepts `--port 1` and `--port=1`; a flag replaces its variable, which is then not read at all.
 * Throws {@link ConfigError} for anything unknown or invalid. Returns `"help"` when `--help` or
 * `-h` was given, whatever else is wrong.
 */
export function parseConfig(args: readonly string[], env: Env): Config | "help" {
  if (args.includes("--help") || args.includes("-h")) return "help";
  const flags = new Map<Option, [string, string]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const equals = arg.indexOf("=");
    const flag = equals < 0 ? arg : arg.slice(0, equals);
    const option = OPTIONS.find((o) => flagOf(o.env) === flag);
    if (!option) throw new ConfigError(`${flag}: unknown option (see --help)`);
    const raw = equals < 0 ? args[++i] : arg.slice(equals + 1);
    if (raw === undefined) throw new ConfigError(`${flag}: missing value`);
    flags.set(option, [raw, flag]);
  }
  const config: Config = { ...DEFAULTS };
  for (const option of OPTIONS) {
    const [raw, source] = flags.get(option) ?? [env[option.env], option.env];
    // An empty variable counts as unset; an empty flag value is a mistake the parser reports.
    if (raw !== undefined && (raw !== "" || flags.has(option))) apply(config, option, raw, source);
  }
  if ((config.tlsCertFile === null) !== (config.tlsKeyFile === null)) {
    throw new ConfigError("TLS_CERT_FILE and TLS_KEY_FILE: set both or neither");
  }
  return config;
}
