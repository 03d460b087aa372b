/**
 * Runs Debian's redis-server as a child process on a free loopback port, with a password and its
 * files in a temporary directory, for the shared fleet's tests (FLEET_URL=redis://...). It can be
 * killed and started again on the same port, as an outage would.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./nginx.ts";

/** A redis-server the test controls. */
export interface RunningRedis {
  port: number;
  password: string;
  /** `redis://:PASSWORD@127.0.0.1:PORT`, as FLEET_URL. */
  url: string;
  /** Kills the server at once (SIGKILL), as a crash would; nothing is saved. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts redis-server and resolves once it accepts connections. */
export async function startRedis(): Promise<RunningRedis> {
  const dir = await mkdtemp(join(tmpdir(), "echo-redis-"));
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  let child: ChildProcess | undefined;
  let exited = Promise.resolve();
  async function launch() {
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
    ];
    const started = spawn("redis-server", [...args, "--requirepass", password], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    started.stdout!.on("data", (c: Buffer) => output += c.toString());
    started.stderr!.on("data", (c: Buffer) => output += c.toString());
    child = started;
    exited = new Promise((resolve) => started.once("exit", () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill("SIGKILL");
        throw new Error(`redis-server did not start: ${output}`);
      }
      await sleep(25);
    }
  }
  async function kill() {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  }
  await launch();
  return {
    port,
    password,
    url: `redis://:${password}@127.0.0.1:${port}`,
    kill,
    restart: launch,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
