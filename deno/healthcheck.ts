/**
 * The `healthcheck` subcommand on Deno.
 *
 * @module
 */
import { healthcheck } from "../lib/server/healthcheck.ts";
import { readSettings } from "./settings.ts";

/**
 * `healthcheck [options]`: exits 0 when the server these options describe answers `/healthz`, 1
 * otherwise. Deno's fetch cannot skip certificate checks, so over TLS it trusts the server's own
 * certificate as its authority: a self-signed certificate for `localhost` passes (docs/deploy.md).
 */
export async function runHealthcheck(program: string, args: readonly string[]): Promise<never> {
  const settings = readSettings(`${program} healthcheck`, { listen: false }, args);
  const client = settings.tls && Deno.createHttpClient({ caCerts: [settings.tls.cert] });
  const { code, message } = await healthcheck(
    settings,
    (url, signal) => fetch(url, client ? { signal, client } : { signal }),
  );
  (code === 0 ? console.log : console.error)(message);
  return Deno.exit(code);
}
