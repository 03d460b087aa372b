/**
 * Start-up's reading of the command line on Deno, with the permissions it needs asked for first.
 *
 * @module
 */
import { loadConfig, type Settings } from "../lib/server/cli.ts";

/**
 * Reads flags and environment; prints help or a bad option's error and exits. Asks for env access first,
 * then for net access: `listen` (`deno run`) to the configured address it will open; otherwise (`deno
 * serve`, which allows its own listening address, and the healthcheck) to any host, which the fleet's
 * engine (`FLEET_URL`) and the healthcheck connect to, so that every Deno command fails the same way
 * without `--allow-net`.
 */
export function readSettings(
  program: string,
  options: { listen: boolean },
  args: readonly string[] = Deno.args,
): Settings {
  requirePermission({ name: "env" }, "env access (--allow-env) to read its configuration", program);
  const settings = loadConfig(args, {
    env: Deno.env.toObject(),
    program,
    exit: Deno.exit,
    // Called only when TLS_CERT_FILE and TLS_KEY_FILE are set, so Deploy needs no file access. A missing
    // --allow-read is reported by loadConfig as the file it could not read.
    readTextFile: Deno.readTextFileSync,
    isTerminal: Deno.stdout.isTerminal(),
  });
  if (settings.config.workers !== 1) {
    console.error("echo: WORKERS: only Bun starts workers; on Deno run `deno serve --parallel serve.ts`");
    Deno.exit(2);
  }
  if (settings.config.tlsCaFile !== null) {
    // Deno.serve takes no CA and gives the handler no peer certificate (docs/deploy.md, "Mutual TLS").
    console.error(
      "echo: TLS_CA_FILE: mutual TLS is not available on Deno: Deno.serve neither requests client " +
        "certificates nor shows them to the handler (denoland/deno#26825)",
    );
    Deno.exit(2);
  }
  const address = `${settings.config.host}:${settings.config.port}`;
  requirePermission(
    options.listen ? { name: "net", host: address } : { name: "net" },
    options.listen ? `net access (--allow-net) to listen on ${address}` : "net access (--allow-net)",
    program,
  );
  return settings;
}

/**
 * Exits 2 with one line naming the permission and the command that grants it, unless Deno has granted
 * it. Asked before the first use, so that Echo neither dies with an uncaught `NotCapable` and its stack
 * trace nor, on a terminal, stops at Deno's interactive prompt (a server has nobody to answer it).
 */
function requirePermission(descriptor: Deno.PermissionDescriptor, what: string, program: string): void {
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync(descriptor).state;
  } catch {
    return; // a host without the permissions API (an embedder): the first use reports it instead
  }
  if (state === "granted") return;
  console.error(`echo: needs ${what}; start it with: ${program}`);
  Deno.exit(2);
}
