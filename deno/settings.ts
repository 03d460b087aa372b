/**
 * Start-up's reading of the command line on Deno, with the permissions it needs asked for first.
 *
 * @module
 */
import { loadConfig, type Settings } from "../lib/server/cli.ts";

/** Where start-up's lines go and how it exits. */
export interface StartOutput {
  print(line: string): void;
  printError(line: string): void;
  exit(code: number): never;
}

/** Straight to the process. */
const PROCESS: StartOutput = { print: console.log, printError: console.error, exit: Deno.exit };

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
  output: StartOutput = PROCESS,
): Settings {
  requirePermission({ name: "env" }, "env access (--allow-env) to read its configuration", program, output);
  const settings = loadConfig(args, {
    env: Deno.env.toObject(),
    program,
    ...output,
    // Called only when TLS_CERT_FILE and TLS_KEY_FILE are set, so Deploy needs no file access. A missing
    // --allow-read is reported by loadConfig as the file it could not read.
    readTextFile: Deno.readTextFileSync,
    isTerminal: Deno.stdout.isTerminal(),
  });
  if (settings.config.workers !== 1) {
    output.printError("echo: WORKERS: only Bun starts workers; on Deno run `deno serve --parallel serve.ts`");
    output.exit(2);
  }
  if (settings.config.tlsCaFile !== null) {
    // Deno.serve takes no CA and gives the handler no peer certificate (docs/deploy.md, "Mutual TLS").
    output.printError(
      "echo: TLS_CA_FILE: mutual TLS is not available on Deno: Deno.serve neither requests client " +
        "certificates nor shows them to the handler (denoland/deno#26825)",
    );
    output.exit(2);
  }
  const address = `${settings.config.host}:${settings.config.port}`;
  requirePermission(
    options.listen ? { name: "net", host: address } : { name: "net" },
    options.listen ? `net access (--allow-net) to listen on ${address}` : "net access (--allow-net)",
    program,
    output,
  );
  return settings;
}

/**
 * Exits 2 with one line naming the permission and the command that grants it, unless Deno has granted
 * it. Asked before the first use, so that Echo neither dies with an uncaught `NotCapable` and its stack
 * trace nor, on a terminal, stops at Deno's interactive prompt (a server has nobody to answer it).
 */
function requirePermission(
  descriptor: Deno.PermissionDescriptor,
  what: string,
  program: string,
  output: StartOutput,
): void {
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync(descriptor).state;
  } catch {
    return; // a host without the permissions API (an embedder): the first use reports it instead
  }
  if (state === "granted") return;
  output.printError(`echo: needs ${what}; start it with: ${program}`);
  output.exit(2);
}

/** How long the isolates of `deno serve --parallel` take to agree which one speaks for all. */
const ELECTION_MS = 100;

/** Thrown by {@link readSettingsOnce}'s `exit`: the isolate's start-up ends here. */
class StartExit {
  constructor(readonly code: number) {}
}

/**
 * {@link readSettings} for `deno serve --parallel`, whose isolates all run the entry with the same
 * arguments and environment: a refusal (or `--help`) would be printed once per isolate, each line
 * prefixed with its worker, racing the first isolate's exit. The isolates that stop at start-up agree
 * over a `BroadcastChannel` (it crosses isolates) on one of them, which prints and exits the process.
 */
export async function readSettingsOnce(program: string, options: { listen: boolean }): Promise<Settings> {
  const lines: Array<[print: (line: string) => void, line: string]> = [];
  const output: StartOutput = {
    print: (line) => lines.push([console.log, line]),
    printError: (line) => lines.push([console.error, line]),
    exit: (code) => {
      throw new StartExit(code);
    },
  };
  try {
    return readSettings(program, options, Deno.args, output);
  } catch (error) {
    if (!(error instanceof StartExit)) throw error;
    const speak = () => {
      for (const [print, line] of lines) print(line);
      Deno.exit(error.code);
    };
    if (await elected()) speak();
    // Another isolate speaks and ends the process; should it not within a second, this one does.
    return new Promise<never>(() => setTimeout(speak, 1_000));
  }
}

/** True for the one isolate, of those asking within {@link ELECTION_MS}, that drew the lowest number. */
async function elected(): Promise<boolean> {
  const channel = new BroadcastChannel("echo-start-up");
  const mine = Math.random();
  let lowest = true;
  channel.onmessage = (event) => {
    if (event.data < mine) lowest = false;
  };
  channel.postMessage(mine);
  await new Promise((resolve) => setTimeout(resolve, ELECTION_MS));
  channel.close();
  return lowest;
}
