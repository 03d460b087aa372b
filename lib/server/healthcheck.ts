/**
 * `echo-ws healthcheck`: asks the local server's `/healthz` and turns the answer into an exit status,
 * for a container `HEALTHCHECK`, a Kubernetes `exec` probe or a CI `--health-cmd`, none of which may
 * have a shell, curl or wget in an image that holds only the binary.
 *
 * @module
 */
import type { Settings } from "./cli.ts";

/** The subcommand's name, as the first argument: `echo-ws healthcheck [options]`. */
export const HEALTHCHECK_COMMAND = "healthcheck";

/**
 * How long the check waits for an answer. Docker's and Podman's `HEALTHCHECK` default to a 30 s
 * timeout and Kubernetes' exec probes to 1 s (`timeoutSeconds`); a live server answers `/healthz` in
 * milliseconds, so 2 s only fails a server that is stuck.
 */
export const HEALTHCHECK_TIMEOUT_MS = 2000;

/** Fetches `url` and gives up when `signal` aborts: the entry's `fetch`, told how to trust TLS. */
export type Get = (url: string, signal: AbortSignal) => Promise<Response>;

/** Exit status and the one line to print. */
export interface HealthcheckResult {
  code: 0 | 1;
  message: string;
}

/** Whether the arguments ask for the subcommand rather than a server. */
export function isHealthcheck(args: readonly string[]): boolean {
  return args[0] === HEALTHCHECK_COMMAND;
}

/**
 * The URL a server with these settings answers `/healthz` on from this host: a wildcard bind is asked
 * on loopback. With TLS the name is `localhost`, the name a local certificate is most likely made for.
 */
export function healthcheckUrl(settings: Settings): string {
  const { host, port } = settings.config;
  const wildcard = host === "0.0.0.0" || host === "::" || host === "";
  const name = settings.tls !== undefined && (wildcard || host === "127.0.0.1" || host === "::1")
    ? "localhost"
    : wildcard
    ? "127.0.0.1"
    : host.includes(":")
    ? `[${host}]`
    : host;
  return `${settings.tls === undefined ? "http" : "https"}://${name}:${port}/healthz`;
}

/** Asks `/healthz` once: 0 on a 200, 1 on anything else, a refusal or no answer within `timeoutMs`. */
export async function healthcheck(
  settings: Settings,
  get: Get,
  timeoutMs: number = HEALTHCHECK_TIMEOUT_MS,
): Promise<HealthcheckResult> {
  if (settings.config.port === 0) {
    return { code: 1, message: "healthcheck: PORT is 0 (a random port); set the port the server listens on" };
  }
  const url = healthcheckUrl(settings);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await get(url, controller.signal);
    await response.body?.cancel();
    if (response.status === 200) return { code: 0, message: `healthcheck: ${url} answered 200` };
    return { code: 1, message: `healthcheck: ${url} answered ${response.status}` };
  } catch (error) {
    const why = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : firstLine(error);
    return { code: 1, message: `healthcheck: ${url}: ${why}` };
  } finally {
    clearTimeout(timer);
  }
}

function firstLine(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return ((error instanceof Error ? error.message : String(error)) + cause).split("\n")[0];
}
