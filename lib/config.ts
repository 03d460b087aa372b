/**
 * Echo's configuration: read once at startup from flags and the environment.
 * Flags win over the environment, which wins over the defaults. Every option has both forms:
 * `MAX_MESSAGE_BYTES=1024` or `--max-message-bytes 1024`.
 *
 * Each option is declared once, in {@link OPTIONS}: its variable, its `--help` line, its parser and its
 * default. The {@link Config} type, {@link DEFAULTS}, {@link parseConfig} and {@link helpText} all come
 * from that table.
 *
 * @module
 */

import { parseTrustProxy } from "./client_address.ts";
import { DEFLATE_MODES } from "./deflate.ts";
import { LOG_LEVELS } from "./log.ts";
import { parseFleetUrl, redactFleetUrl } from "./fleet_url.ts";
import { FRAMING_HEADERS, isToken } from "./tokens.ts";

/** A value that cannot be used; `message` is one line naming the option. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The environment variables Echo reads. */
export type Env = Record<string, string | undefined>;

/** Returns the value, or throws an Error whose message says what was expected. */
type Parse<T> = (raw: string) => T;

/** One option: where it is read from, what `--help` says of it, how it is parsed, and its default. */
export interface Option<T> {
  /** The environment variable; the flag is {@link flagOf} it. */
  readonly env: string;
  /** What `--help` says it does. */
  readonly meaning: string;
  readonly parse: Parse<T>;
  readonly default: T;
  /** How a bad value is quoted in the error (a URL's password must not be). */
  readonly quote?: (raw: string) => string;
}

/** An option whose default is `value`. */
function option<T>(
  env: string,
  meaning: string,
  parse: Parse<T>,
  value: NoInfer<T>,
  quote?: (raw: string) => string,
): Option<T> {
  return { env, meaning, parse, default: value, quote };
}

/** An option that is unset (`null`) by default. */
function unset<T>(
  env: string,
  meaning: string,
  parse: Parse<T>,
  quote?: (raw: string) => string,
): Option<T | null> {
  return { env, meaning, parse, default: null, quote };
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

function oneOf<const T extends string>(values: readonly T[]): Parse<T> {
  return (raw) => {
    const value = values.find((v) => v === raw);
    if (value === undefined) throw new Error(`expected one of ${values.join(", ")}`);
    return value;
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

/** Most headers `RESPONSE_HEADERS` may add, and the longest value of one. */
export const RESPONSE_HEADER_LIMITS = { headers: 32, valueLength: 4096 } as const;

/** One response header field, as `RESPONSE_HEADERS` gives it. */
export type HeaderField = readonly [name: string, value: string];

/**
 * `RESPONSE_HEADERS`: one `Name: value` per line, as HTTP writes them (a value may hold `;` and `,`, so
 * only a line break can separate them). Blank lines are skipped; a CR before a line break is allowed.
 */
const responseHeaders: Parse<HeaderField[]> = (raw) => {
  const lines = raw.split("\n").map((line) => line.replace(/\r$/, "")).filter((line) => line.trim() !== "");
  if (lines.length > RESPONSE_HEADER_LIMITS.headers) {
    throw new Error(`expected at most ${RESPONSE_HEADER_LIMITS.headers} lines of Name: value`);
  }
  return lines.map((line) => {
    const colon = line.indexOf(":");
    const name = line.slice(0, Math.max(colon, 0)).trim();
    const value = line.slice(colon + 1).trim();
    if (colon < 0 || !isToken(name)) {
      throw new Error(`expected lines of Name: value, the name an HTTP token, not ${JSON.stringify(line)}`);
    }
    if (FRAMING_HEADERS.has(name.toLowerCase())) {
      throw new Error(`${name} frames the message and is set by the server`);
    }
    // Field values exclude CR, LF and NUL (RFC 9110 §5.5); a Response would throw on them.
    // deno-lint-ignore no-control-regex
    if (value.length > RESPONSE_HEADER_LIMITS.valueLength || /[\x00\r]|[^\x00-\xff]/.test(value)) {
      throw new Error(
        `the value of ${name} must be Latin-1 text without CR or NUL, at most ${RESPONSE_HEADER_LIMITS.valueLength} characters`,
      );
    }
    return [name, value] as const;
  });
};

const MIB = 1024 * 1024;

const TABLE = {
  /** TCP port; 0 asks the OS for a free one (tests use it). */
  port: option("PORT", "TCP port to listen on (0 picks a free port)", integer(0, 65535), 8181),
  /** Interface to bind. */
  host: option("HOST", "interface to bind", word("a host name or address"), "0.0.0.0"),
  /** permessage-deflate compressor Bun negotiates with (Deno cannot deflate). */
  deflate: option(
    "DEFLATE",
    `permessage-deflate on Bun: ${DEFLATE_MODES.join(", ")}`,
    oneOf(DEFLATE_MODES),
    "shared",
  ),
  /** What `/info` shows of other clients' connections. */
  infoDetails: option(
    "INFO_DETAILS",
    "what /info shows of other clients: public, full",
    oneOf(["public", "full"]),
    "public",
  ),
  /** Most connections `/info` lists per page in each of its lists (live, recent); `limit=` asks for fewer. */
  infoLimit: option(
    "INFO_LIMIT",
    "most connections per /info page, in each of live and recent",
    integer(1, 1000),
    25,
  ),
  /** Largest message accepted, after decompression; larger ones close the connection with 1009. */
  maxMessageBytes: option(
    "MAX_MESSAGE_BYTES",
    "largest message accepted; larger closes with 1009",
    integer(0, 2 ** 32 - 1),
    16 * MIB,
  ),
  /** Largest amount of echo data queued for one client that does not read. */
  maxBufferedBytes: option(
    "MAX_BUFFERED_BYTES",
    "queued echo bytes per slow reader: Bun pauses, Deno closes 1008",
    integer(1024, 2 ** 32 - 1),
    16 * MIB,
  ),
  /** Seconds a client may stay silent (pings unanswered) before it is closed; 0 disables. */
  idleTimeoutSeconds: option(
    "IDLE_TIMEOUT_SECONDS",
    "silence before a client is closed, 1001 (pinged at half); 0: off",
    integer(0, 960),
    120,
  ),
  /** Live connections beyond which upgrades are refused with 503. */
  maxConnections: option(
    "MAX_CONNECTIONS",
    "live connections beyond which upgrades get 503",
    integer(1, 1_000_000),
    10_000,
  ),
  /** Origins a browser upgrade may come from; `null` allows any. */
  allowedOrigins: unset(
    "ALLOWED_ORIGINS",
    "comma list of browser origins allowed, WebSocket and CORS (unset: any)",
    origins,
  ),
  /** Seconds shutdown waits for closing handshakes. */
  shutdownGraceSeconds: option(
    "SHUTDOWN_GRACE_SECONDS",
    "wait for closing handshakes on SIGTERM/SIGINT",
    integer(0, 600),
    10,
  ),
  tlsCertFile: unset(
    "TLS_CERT_FILE",
    "PEM certificate: serve wss:// and https:// (with TLS_KEY_FILE)",
    word("a file path"),
  ),
  tlsKeyFile: unset("TLS_KEY_FILE", "PEM private key for TLS_CERT_FILE", word("a file path")),
  /** The CA whose client certificates would be requested: refused on both runtimes (docs/deploy.md). */
  tlsCaFile: unset(
    "TLS_CA_FILE",
    "client certificate CA (mutual TLS): not on Deno or Bun, docs/deploy.md",
    word("a file path"),
  ),
  /** The HTTP echo's status when the request asks for none (`echo_status`). */
  defaultStatus: option(
    "DEFAULT_STATUS",
    "status of every HTTP echo answer that asks for none (echo_status)",
    integer(200, 599),
    200,
  ),
  /** Headers added to every HTTP echo answer, before the request's own `echo_header` knobs. */
  responseHeaders: option(
    "RESPONSE_HEADERS",
    "headers of every HTTP echo answer, one Name: value per line",
    responseHeaders,
    [],
  ),
  /** Log output format; `auto` means pretty on a terminal, JSON otherwise. */
  logFormat: option(
    "LOG_FORMAT",
    "json, pretty, or auto (pretty on a terminal)",
    oneOf(["json", "pretty", "auto"]),
    "auto",
  ),
  logLevel: option("LOG_LEVEL", "debug, info, warn or error", oneOf(LOG_LEVELS), "info"),
  /** The forwarding header the reverse proxy in front writes; `null`: such headers are ignored. */
  trustProxy: option(
    "TRUST_PROXY",
    "client address from proxy header: x-forwarded-for, forwarded[:HOPS]",
    parseTrustProxy,
    null,
  ),
  /** Bun: worker threads sharing the port with reusePort; 0 means one per core. */
  workers: option(
    "WORKERS",
    "Bun: threads sharing the port, 0 or auto = all cores (Deno: deno serve --parallel)",
    workers,
    1,
  ),
  /** Whether a WebSocket URL's query may ask for test knobs (`?echo_delay=200`); `off` refuses them. */
  knobs: option(
    "KNOBS",
    "test knobs (?echo_delay=200) for WebSocket, HTTP echo, SSE: on, or off (403)",
    oneOf(["on", "off"]),
    "on",
  ),
  /** The shared engine replicas find each other's connections through; `null`: this process alone. */
  fleetUrl: unset(
    "FLEET_URL",
    "replicas share /info through redis://[user:pass@]host:port[/db] or kv:[path]",
    parseFleetUrl,
    redactFleetUrl,
  ),
};

/** Everything an entry needs to start serving: one value per option, of the type its parser gives. */
export type Config = { -readonly [K in keyof typeof TABLE]: (typeof TABLE)[K]["default"] };

/** The name of one option, as a key of {@link Config}. */
export type OptionKey = keyof Config;

/**
 * Every option, in the order `--help` lists them (and `/info` shows the configuration). Typed by
 * {@link Config} so that `OPTIONS[key]` parses to `Config[key]` for any key.
 */
export const OPTIONS: { readonly [K in OptionKey]: Option<Config[K]> } = TABLE;

/** The options' keys, in the table's order. */
const KEYS = Object.keys(OPTIONS) as OptionKey[];

/** `public`: other connections without address, tag or identifying headers; `full`: everything. */
export type InfoDetails = Config["infoDetails"];

/** Log output formats; `auto` means pretty on a terminal, JSON otherwise. */
export type LogFormat = Config["logFormat"];

/** A whole configuration from one value per option, in the table's order. */
function perOption(value: <K extends OptionKey>(key: K) => Config[K]): Config {
  return Object.fromEntries(KEYS.map((key) => [key, value(key)])) as Config;
}

/** The settings Echo starts with when nothing overrides them. */
export const DEFAULTS: Readonly<Config> = perOption((key) => OPTIONS[key].default);

/** The flag that sets the option read from `env`: `MAX_MESSAGE_BYTES` → `--max-message-bytes`. */
export function flagOf(env: string): string {
  return `--${env.toLowerCase().replaceAll("_", "-")}`;
}

function show(value: unknown): string {
  if (value === null) return "unset";
  if (Array.isArray(value) && value.length === 0) return "none";
  if (typeof value === "object" && "header" in value && "hops" in value) {
    return `${value.header}:${value.hops}`;
  }
  return Array.isArray(value) ? value.join(",") : String(value);
}

/** The text `--help` prints: every option with its flag, variable and default. */
export function helpText(program: string): string {
  const rows = KEYS.flatMap((key) => [
    `  ${flagOf(OPTIONS[key].env)} <value>`,
    `      ${OPTIONS[key].env}: ${OPTIONS[key].meaning} (default ${show(OPTIONS[key].default)})`,
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

/** The option's value from `raw`, or a ConfigError naming `source` and quoting `raw`. */
function read<K extends OptionKey>(key: K, raw: string, source: string): Config[K] {
  const option = OPTIONS[key];
  try {
    return option.parse(raw);
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
  const flags = new Map<OptionKey, [string, string]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const equals = arg.indexOf("=");
    const flag = equals < 0 ? arg : arg.slice(0, equals);
    const key = KEYS.find((k) => flagOf(OPTIONS[k].env) === flag);
    if (!key) throw new ConfigError(`${flag}: unknown option (see --help)`);
    const raw = equals < 0 ? args[++i] : arg.slice(equals + 1);
    if (raw === undefined) throw new ConfigError(`${flag}: missing value`);
    flags.set(key, [raw, flag]);
  }
  const config = perOption((key) => {
    const [raw, source] = flags.get(key) ?? [env[OPTIONS[key].env], OPTIONS[key].env];
    // An empty variable counts as unset; an empty flag value is a mistake the parser reports.
    if (raw !== undefined && (raw !== "" || flags.has(key))) return read(key, raw, source);
    return OPTIONS[key].default;
  });
  if ((config.tlsCertFile === null) !== (config.tlsKeyFile === null)) {
    throw new ConfigError("TLS_CERT_FILE and TLS_KEY_FILE: set both or neither");
  }
  if (config.tlsCaFile !== null && config.tlsCertFile === null) {
    throw new ConfigError("TLS_CA_FILE: mutual TLS needs TLS_CERT_FILE and TLS_KEY_FILE too");
  }
  return config;
}
