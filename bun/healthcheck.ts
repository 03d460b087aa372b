/**
 * The `healthcheck` subcommand on Bun.
 *
 * @module
 */
import { loadConfig } from "../lib/server/cli.ts";
import { healthcheck } from "../lib/server/healthcheck.ts";
import { cliOptions, PROGRAM } from "./settings.ts";

/**
 * `healthcheck [options]`: exits 0 when the server these options describe answers `/healthz`, 1
 * otherwise. Over TLS the certificate is not checked: the question is whether this host's server is
 * alive, and its certificate is made for a public name, not for the loopback address asked.
 */
export async function runHealthcheck(args: string[]): Promise<never> {
  const settings = loadConfig(args, cliOptions(`${PROGRAM} healthcheck`));
  const { code, message } = await healthcheck(
    settings,
    (url, signal) => fetch(url, { signal, tls: { rejectUnauthorized: false } }),
  );
  (code === 0 ? console.log : console.error)(message);
  return process.exit(code);
}
