/**
 * A server context for unit tests, built the way the entries build theirs, with a logger that
 * keeps every event it is given. Test code only: nothing outside `*_test.ts` imports it.
 *
 * @module
 */
import { type Config, DEFAULTS } from "./config.ts";
import { captureConnection, type Connection } from "./connection.ts";
import { type Context, createContext } from "./context.ts";
import { DENO_EXTENSIONS, type ExtensionPolicy } from "./deflate.ts";
import { createLogger } from "./log.ts";

/** One logged event, as its JSON line parses. */
export type LoggedEvent = Record<string, unknown>;

/** A context and the events its logger has written so far, oldest first. */
export interface TestContext {
  context: Context;
  events: LoggedEvent[];
}

/** What a test may change; by default `Test 1` with Deno's extension policy. */
export interface TestContextOptions {
  runtime?: string;
  extensions?: ExtensionPolicy;
  /** The host's name the context reports (default: none, as on Deno without HOSTNAME or --allow-sys). */
  hostname?: string;
}

/** A context over DEFAULTS with `config` applied, logging every level as JSON into `events`. */
export function testContext(config: Partial<Config> = {}, options: TestContextOptions = {}): TestContext {
  const events: LoggedEvent[] = [];
  const logger = createLogger((line) => events.push(JSON.parse(line)), { format: "json", level: "debug" });
  const context = createContext({ ...DEFAULTS, ...config }, {
    runtime: options.runtime ?? "Test 1",
    extensions: options.extensions ?? DENO_EXTENSIONS,
    logger,
    hostname: options.hostname,
  });
  return { context, events };
}

/** A connection record as an upgrade of `url` from 127.0.0.1 captures it, for hub members in tests. */
export function testConnection(id = 1, url = "http://echo.test/"): Connection {
  return captureConnection(new Request(url), {
    id,
    remoteAddress: "127.0.0.1",
    protocol: undefined,
    extensions: "",
  });
}

/** The counters of a connection that has exchanged nothing yet. */
export const NO_TRAFFIC = { pingsSent: 0, pongs: 0, messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 };
