import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { ENTRIES, ROOT, runToExit, startServer } from "./support/server.ts";
import { nodeWs } from "./support/clients.ts";
import { freePort } from "./support/nginx.ts";
import { twoMembers } from "./support/fleets.ts";

for (const entry of ENTRIES) {
  describe(`command line of ${entry.name}`, () => {
    test("--help lists every option with its variable and exits 0", async () => {
      const { code, stdout } = await runToExit(entry, { args: ["--help"] });
      assert.equal(code, 0);
      for (
        const word of [
          "--port",
          "PORT",
          "8181",
          "--host",
          "HOST",
          "0.0.0.0",
          "--deflate",
          "DEFLATE",
          "INFO_DETAILS",
        ]
      ) {
        assert.ok(stdout.includes(word), word);
      }
    });

    const bad: Array<[string, { args?: string[]; env?: Record<string, string> }, RegExp]> = [
      ["PORT=abc", { env: { PORT: "abc" } }, /PORT/],
      ["PORT=70000", { env: { PORT: "70000" } }, /PORT/],
      ["--port abc", { args: ["--port", "abc"] }, /--port/],
      ["--port=70000", { args: ["--port=70000"] }, /--port/],
      ["--port with no value", { args: ["--port"] }, /--port/],
      ["an unknown flag", { args: ["--bogus"] }, /--bogus/],
      ["DEFLATE=zip", { env: { DEFLATE: "zip" } }, /DEFLATE: expected one of shared, dedicated, off/],
      ["--info-details=all", { args: ["--info-details=all"] }, /--info-details/],
    ];
    for (const [what, options, names] of bad) {
      test(`${what} stops start-up with one line naming the option and status 2`, async () => {
        const { code, stdout, stderr } = await runToExit(entry, options);
        assert.equal(code, 2);
        assert.equal(stdout, "");
        const lines = stderr.trim().split("\n");
        assert.equal(lines.length, 1, stderr);
        assert.match(lines[0], names);
      });
    }

    test("PORT from the environment is used, and --port overrides it", async () => {
      const server = await startServer(entry, { env: { PORT: "1" }, args: ["--port", "0"] });
      try {
        assert.notEqual(server.port, 1);
        const { received } = await nodeWs.exchange(`${server.ws}/`, ["hi"]);
        assert.deepEqual(received, [{ type: "text", data: "hi" }]);
      } finally {
        await server.stop();
      }
    });

    test("HOST binds the given interface and start-up prints one line with the URL", async () => {
      const server = await startServer(entry, { env: { HOST: "127.0.0.1", LOG_FORMAT: "pretty" } });
      try {
        assert.match(
          server.stdout(),
          new RegExp(`^Echo on \\w+ [\\d.]+ listening on ws://127\\.0\\.0\\.1:${server.port}/\\n$`),
        );
      } finally {
        await server.stop();
      }
    });

    test("LOG_LEVEL=error still prints the start-up line, and nothing else for a connection", async () => {
      const server = await startServer(entry, { env: { LOG_LEVEL: "error", LOG_FORMAT: "json" } });
      try {
        const { received } = await nodeWs.exchange(`${server.ws}/`, ["quiet"]);
        assert.deepEqual(received, [{ type: "text", data: "quiet" }]);
        await sleep(200);
        const lines = server.stdout().trim().split("\n");
        assert.equal(lines.length, 1, server.stdout());
        assert.equal(JSON.parse(lines[0]).event, "listening");
      } finally {
        await server.stop();
      }
    });

    test("with LOG_FORMAT=json the start-up line is one JSON object carrying the same message", async () => {
      const server = await startServer(entry, { env: { HOST: "127.0.0.1", LOG_FORMAT: "json" } });
      try {
        const lines = server.stdout().trim().split("\n");
        assert.equal(lines.length, 1);
        const line = JSON.parse(lines[0]);
        assert.equal(line.event, "listening");
        assert.equal(line.level, "info");
        assert.equal(line.port, server.port);
        assert.match(line.message, new RegExp(`listening on ws://127\\.0\\.0\\.1:${server.port}/$`));
      } finally {
        await server.stop();
      }
    });
  });
}

describe("default port", () => {
  for (const entry of ENTRIES) {
    test(`${entry.name} listens on 8181 when nothing says otherwise`, async () => {
      const server = await startServer(entry, { env: { PORT: "" } });
      try {
        assert.equal(server.port, 8181);
        const { received } = await nodeWs.exchange("ws://localhost:8181/", ["default"]);
        assert.deepEqual(received, [{ type: "text", data: "default" }]);
      } finally {
        await server.stop();
      }
    });
  }
});

/** `npm run SCRIPT` in a process group of its own, with what it printed so far. */
function npmRun(script: string, env: Record<string, string>) {
  const child = spawn("npm", ["run", script], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // A group of its own, so that whatever npm started can be found and stopped at the end.
    detached: true,
  });
  const out = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => out.stdout += chunk);
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => out.stderr += chunk);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    out,
    exited,
    /** Resolves with the first stdout line after npm's banner that matches `pattern`. */
    async line(pattern: RegExp): Promise<string> {
      for (let waited = 0; waited < 20_000; waited += 50) {
        const found = out.stdout.split("\n").find((line) => pattern.test(line));
        if (found) return found;
        await sleep(50);
      }
      throw new Error(`no line matching ${pattern} in 20 s:\n${out.stdout}${out.stderr}`);
    },
    /** SIGKILLs whatever is left of the group. */
    async kill() {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch { /* the group is gone */ }
      await exited;
    },
  };
}

/** `promise`'s value, or "timed out" after `ms`. */
function within<T>(ms: number, promise: Promise<T>): Promise<T | "timed out"> {
  return Promise.race([promise, sleep(ms).then(() => "timed out" as const)]);
}

/** Whether a process is running (signal 0 reaches it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const LONG_NPM = { timeout: 60_000 };

const PACKAGE = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8"));

describe("the README's start commands", () => {
  for (const script of ["start", "start:bun"]) {
    test(`npm run ${script}: npm's banner, then Echo's listening line, and nothing on stderr`, {
      timeout: 60_000,
    }, async () => {
      const npm = npmRun(script, { PORT: "0", LOG_FORMAT: "pretty" });
      try {
        await npm.line(/listening on/);
        const lines = npm.out.stdout.split("\n");
        // npm's banner (its script's name and command), and Echo's line at once after it.
        const banner = [
          "",
          `> ${PACKAGE.name}@${PACKAGE.version} ${script}`,
          `> ${PACKAGE.scripts[script]}`,
          "",
        ];
        assert.deepEqual(lines.slice(0, 4), banner);
        assert.match(lines[4], /^Echo on \w+ [\d.]+ listening on ws:\/\/localhost:\d+\//);
        await sleep(300);
        assert.equal(npm.out.stderr, "");
      } finally {
        await npm.kill();
      }
    });

    test(`npm run ${script}: SIGTERM to npm drains the server, and no Echo process outlives npm`, {
      timeout: 60_000,
    }, async () => {
      const npm = npmRun(script, { PORT: "0", LOG_FORMAT: "json", SHUTDOWN_GRACE_SECONDS: "5" });
      try {
        const { port, pid } = JSON.parse(await npm.line(/"event":"listening"/));
        const client = new WebSocket(`ws://127.0.0.1:${port}/`);
        await new Promise((resolve, reject) => {
          client.onopen = resolve;
          client.onerror = reject;
        });
        const closed = new Promise<number>((resolve) => client.onclose = (event) => resolve(event.code));
        const start = Date.now();
        process.kill(npm.child.pid!, "SIGTERM"); // npm alone, as a process manager stops it
        assert.equal(await within(10_000, closed), 1001, "the client got Echo's going-away close");
        assert.equal(await within(10_000, npm.exited), 0, "npm exits as its script did: 0 after the drain");
        while (alive(pid) && Date.now() - start < 5_000) await sleep(50);
        assert.equal(alive(pid), false, `Echo (pid ${pid}) still runs after npm exited`);
      } finally {
        await npm.kill();
      }
    });
  }

  for (const script of ["start", "start:bun"]) {
    test(
      `npm run ${script}: Ctrl-C (SIGINT to the group, which npm forwards again) drains`,
      LONG_NPM,
      async () => {
        const npm = npmRun(script, { PORT: "0", LOG_FORMAT: "json", SHUTDOWN_GRACE_SECONDS: "5" });
        try {
          const { port } = JSON.parse(await npm.line(/"event":"listening"/));
          const client = new WebSocket(`ws://127.0.0.1:${port}/`);
          await new Promise((resolve, reject) => {
            client.onopen = resolve;
            client.onerror = reject;
          });
          const closed = new Promise<number>((resolve) => client.onclose = (event) => resolve(event.code));
          // Later than start-up, as a user's Ctrl-C comes: the two deliveries then reach Deno apart.
          await sleep(1500);
          process.kill(-npm.child.pid!, "SIGINT"); // the whole group, as a terminal's Ctrl-C
          assert.equal(await within(10_000, closed), 1001, "the client got Echo's going-away close");
          assert.equal(await within(10_000, npm.exited), 0);
          assert.match(npm.out.stdout, /"event":"shutdown complete","left":0/, "the drain ran to its end");
        } finally {
          await npm.kill();
        }
      },
    );
  }

  test("npm run start:parallel listens on PORT (8181 when unset), with no warning that PORT is ignored", {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const env = { PORT: String(port), DENO_JOBS: "2", LOG_FORMAT: "json", SHUTDOWN_GRACE_SECONDS: "5" };
    const npm = npmRun("start:parallel", env);
    try {
      const { message } = JSON.parse(await npm.line(/"event":"listening"/));
      assert.match(message, new RegExp(`listening on ws://localhost:${port}/`));
      const { received } = await nodeWs.exchange(`ws://127.0.0.1:${port}/`, ["parallel"]);
      assert.deepEqual(received, [{ type: "text", data: "parallel" }]);
      // Both isolates up before the signal, as tests/fleet_test.ts stops deno serve.
      await twoMembers(port);
      assert.doesNotMatch(npm.out.stdout, /ignored under deno serve/, "PORT was honoured, not ignored");
      process.kill(npm.child.pid!, "SIGTERM");
      assert.equal(await within(10_000, npm.exited), 0);
    } finally {
      await npm.kill();
    }
    assert.match(PACKAGE.scripts["start:parallel"], /--port "\$\{PORT:-8181\}"/);
  });
});
