/**
 * Starts a real Echo entry as a child process on a free port, for tests and benchmarks.
 * Written against `node:` modules so the same tests run under `deno test` and `bun test`.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));
const BIN = `${ROOT}node_modules/.bin/`;

/** A way to run Echo: which runtime, with which command. */
export interface Entry {
  /** `deno` or `bun` for Echo's entries; benchmarks add other servers. */
  name: string;
  /**
   * Command line that starts the given script (relative to the repository root); `permissions`
   * are extra Deno permission flags (e.g. `--allow-read` for TLS files), ignored by Bun.
   */
  command(script?: string, permissions?: string[]): string[];
}

/** Echo's two entries, as a user starts them. */
export const ENTRIES: ReadonlyArray<Entry & { name: "deno" | "bun" }> = [
  {
    name: "deno",
    command: (script = "main.ts", permissions = []) => [
      `${BIN}deno`,
      "run",
      "--allow-net",
      "--allow-env",
      ...permissions,
      script,
    ],
  },
  { name: "bun", command: (script = "bun/server.ts") => [`${BIN}bun`, "run", script] },
];

/**
 * Echo on all cores under `deno serve --parallel serve.ts` (DENO_JOBS sets the isolate count). `deno
 * serve` takes the port itself: Echo's own `--port` and PORT are ignored there, so the port is given here.
 */
export function denoServeEntry(port: number): Entry {
  return {
    name: "deno",
    command: () => [
      `${BIN}deno`,
      "serve",
      "--parallel",
      "--allow-net",
      "--allow-env",
      "--port",
      String(port),
      "serve.ts",
    ],
  };
}

/** A running Echo process. */
export interface RunningServer {
  port: number;
  /** `ws://127.0.0.1:PORT` (no trailing slash). */
  ws: string;
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  http: string;
  process: ChildProcess;
  /** Everything printed so far on stdout and stderr. */
  output(): string;
  /** What was printed on stdout alone (Echo's own lines; runtimes warn on stderr). */
  stdout(): string;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options for {@link startServer}. */
export interface StartOptions {
  /** Extra command-line arguments; `--port 0` is added unless a port is given. */
  args?: string[];
  env?: Record<string, string>;
  /** A script other than the entry's own (a test fixture). */
  script?: string;
  /** Extra Deno permissions. */
  permissions?: string[];
  /**
   * A file the process's stdout goes to instead of a pipe this process reads (benchmarks: reading a
   * server's log lines is work for the process that drives the load, and only for servers that log).
   */
  stdoutFile?: string;
}

const LISTENING = /listening on wss?:\/\/[^\s]*:(\d+)\//;

/** How often the stdout file is read for the listening line. */
const FILE_POLL_MS = 20;

/** Starts `entry` and resolves once it prints its listening line. */
export function startServer(entry: Entry, options: StartOptions = {}): Promise<RunningServer> {
  const args = options.args ?? [];
  const hasPort = args.includes("--port") || options.env?.PORT !== undefined;
  const [cmd, ...rest] = entry.command(options.script, options.permissions);
  const file = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, "w");
  const child = spawn(cmd, [...rest, ...(hasPort ? [] : ["--port", "0"]), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", file ?? "pipe", "pipe"],
  });
  if (file !== undefined) closeSync(file);
  // Everything printed, in order of arrival; with a stdout file, stderr alone.
  let output = "";
  let piped = "";
  const stdout = () => options.stdoutFile === undefined ? piped : readFileSync(options.stdoutFile, "utf8");
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let poll: ReturnType<typeof setInterval> | undefined;
    const timer = setTimeout(
      () => fail(new Error(`${entry.name} did not start in 20 s:\n${all()}`)),
      20_000,
    );
    const all = () => options.stdoutFile === undefined ? output : stdout() + output;
    function fail(error: Error) {
      clearTimeout(timer);
      clearInterval(poll);
      child.kill("SIGKILL");
      reject(error);
    }
    function started(): boolean {
      const match = LISTENING.exec(stdout());
      if (!match) return false;
      clearTimeout(timer);
      clearInterval(poll);
      const port = Number(match[1]);
      resolve({
        port,
        ws: `ws://127.0.0.1:${port}`,
        http: `http://127.0.0.1:${port}`,
        process: child,
        output: all,
        stdout,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          await exited;
        },
      });
      return true;
    }
    // Decoded as a stream: a character split between two chunks would otherwise become two U+FFFD.
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => output += chunk);
    if (child.stdout) {
      child.stdout.setEncoding("utf8");
      let listening = false;
      child.stdout.on("data", (chunk: string) => {
        output += chunk;
        piped += chunk;
        if (!listening) listening = started();
      });
    } else {
      poll = setInterval(started, FILE_POLL_MS);
    }
    child.once(
      "exit",
      (code) => fail(new Error(`${entry.name} exited (${code}) before listening:\n${all()}`)),
    );
  });
}

/** Runs an entry to completion (for `--help` and bad options) and returns its status and output. */
export function runToExit(
  entry: Entry,
  options: StartOptions,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, ...rest] = entry.command(options.script, options.permissions);
  const child = spawn(cmd, [...rest, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => stdout += c.toString());
  child.stderr!.on("data", (c: Buffer) => stderr += c.toString());
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

/** Resident memory of a process in bytes, from /proc (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

/** Every JSON log line the server printed so far. */
export function logLines(server: RunningServer): Array<Record<string, unknown>> {
  return server.output().split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}
