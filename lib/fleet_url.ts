/**
 * `FLEET_URL`: the shared engine through which separate Echo processes (replicas behind a load balancer,
 * instances on Deno Deploy) find each other's connections. A Redis-protocol server
 * (`redis://[user:password@]host:port[/db]`) or, on Deno, Deno KV (`kv:` for the default database, as on
 * Deno Deploy, or `kv:/path/to/file.sqlite`). The password is a secret: the parsed URL shows itself
 * without it wherever it is printed or serialized (`/info`'s configuration, logs, errors).
 *
 * @module
 */

/** The engines a fleet URL can name. */
export type FleetEngine = "redis" | "kv";

/** What a parse failure says; never includes the value, which may hold a password. */
export const FLEET_URL_FORMS =
  "expected redis://[user:password@]host:port[/db], kv: or kv:/path/to/file.sqlite";

/** A parsed `FLEET_URL`; JSON and string forms hide the password. */
export class FleetUrl {
  readonly engine: FleetEngine;
  /** The URL without its password, safe to show. */
  readonly shown: string;
  /** Deno KV's database file; `undefined` for the default database (`kv:`). Redis: unused. */
  readonly path: string | undefined;
  /** The password as written and decoded, if any: stripped from messages of errors passed on. */
  readonly #secrets: string[];
  readonly #href: string;

  constructor(engine: FleetEngine, href: string, shown: string, secret: string, path?: string) {
    this.engine = engine;
    this.#href = href;
    this.shown = shown;
    this.#secrets = secret === "" ? [] : [secret, decoded(secret)];
    this.path = path;
  }

  /** The URL with its password, for the engine's client only. */
  href(): string {
    return this.#href;
  }

  /** `text` with the password (raw and URL-encoded) replaced by `***`. */
  scrub(text: string): string {
    return this.#secrets.reduce((out, secret) => out.replaceAll(secret, "***"), text);
  }

  toJSON(): string {
    return this.shown;
  }

  toString(): string {
    return this.shown;
  }
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Parses a `FLEET_URL` value; throws an Error saying what was expected (without the value). */
export function parseFleetUrl(raw: string): FleetUrl {
  if (raw.startsWith("kv:")) {
    const path = raw.slice(3);
    if (path.startsWith("//") || /\s/.test(path)) throw new Error(FLEET_URL_FORMS);
    return new FleetUrl("kv", raw, raw, "", path === "" ? undefined : path);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(FLEET_URL_FORMS);
  }
  const valid = (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname !== "" &&
    /^(\/\d{0,2})?$/.test(url.pathname) && url.search === "" && url.hash === "";
  if (!valid) throw new Error(FLEET_URL_FORMS);
  const user = url.username === "" ? "" : `${url.username}${url.password === "" ? "" : ":***"}@`;
  const auth = user === "" && url.password !== "" ? ":***@" : user;
  const shown = `${url.protocol}//${auth}${url.host}${url.pathname === "/" ? "" : url.pathname}`;
  return new FleetUrl("redis", url.href, shown, url.password);
}

/**
 * A raw value as an error message may quote it: everything between `//` and the last `@` hidden,
 * so a password survives no typo (the URL may not parse, so its parts cannot be trusted).
 */
export function redactFleetUrl(raw: string): string {
  return raw.replace(/\/\/.*@/s, "//***@");
}
