/**
 * Runs Debian's nginx as a child process on a free loopback port in front of an Echo server,
 * with the configuration docs/deploy.md shows (deploy/nginx.conf), and everything it writes kept
 * in a temporary directory.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT } from "./server.ts";

/** A running nginx. */
export interface RunningNginx {
  port: number;
  process: ChildProcess;
  /** What nginx wrote to its error log (for failure messages). */
  errors(): Promise<string>;
  stop(): Promise<void>;
}

/** A port nobody listens on right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** deploy/nginx.conf with its listen port and upstream address replaced (one `server` line per port). */
export async function nginxSite(listenPort: number, upstreamPort: number | number[]): Promise<string> {
  const site = await readFile(join(ROOT, "deploy/nginx.conf"), "utf8");
  const ports = [upstreamPort].flat();
  const replaced = site
    .replace(/listen 8080;/, `listen 127.0.0.1:${listenPort};`)
    .replace(/server 127\.0\.0\.1:8181;/, ports.map((port) => `server 127.0.0.1:${port};`).join(" "));
  if (replaced === site || !replaced.includes(String(ports[0]))) {
    throw new Error("deploy/nginx.conf no longer has `listen 8080;` and `server 127.0.0.1:8181;`");
  }
  return replaced;
}

/** Starts nginx in front of `upstreamPort` (round robin over several) and resolves once it accepts connections. */
export async function startNginx(upstreamPort: number | number[]): Promise<RunningNginx> {
  const dir = await mkdtemp(join(tmpdir(), "echo-nginx-"));
  const port = await freePort();
  // Without a master process nginx stays one process of the current user: no `user` switch
  // (as root it would hand requests to `nobody`, who cannot read this directory).
  const conf = [
    "daemon off;",
    "master_process off;",
    "worker_processes 1;",
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log info;`,
    "events { worker_connections 256; }",
    "http {",
    `  access_log ${dir}/access.log;`,
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t};`),
    await nginxSite(port, upstreamPort),
    "}",
  ].join("\n");
  await writeFile(join(dir, "nginx.conf"), conf);
  // -e before -c: nginx opens its built-in error log (/var/log/nginx) before reading the config.
  const child = spawn("nginx", ["-p", `${dir}/`, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => output += c.toString());
  child.stderr!.on("data", (c: Buffer) => output += c.toString());
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const errors = () => readFile(join(dir, "error.log"), "utf8").catch(() => "");
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nginx did not start: ${output}\n${await errors()}`);
    }
    await sleep(50);
  }
  return {
    port,
    process: child,
    errors,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGQUIT");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function accepts(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}
