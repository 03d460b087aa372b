import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { spawn } from "node:child_process";
import process from "node:process";
import { ENTRIES, ROOT, runToExit, startServer } from "./support/server.ts";
import { nodeWs } from "./support/clients.ts";

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

describe("the README's start commands", () => {
  for (const script of ["start", "start:bun"]) {
    test(`npm run ${script}: Echo's listening line comes first, and nothing on stderr`, async () => {
      const child = spawn("npm", ["run", script], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: "1", PORT: "0", LOG_FORMAT: "pretty" },
        stdio: ["ignore", "pipe", "pipe"],
        // A group of its own, so that npm and the runtime it started are stopped together.
        detached: true,
      });
      let stdout = "";
      let stderr = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk);
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      try {
        for (let waited = 0; !stdout.includes("\n") && waited < 20_000; waited += 50) await sleep(50);
        assert.match(stdout.split("\n")[0], /^Echo on \w+ [\d.]+ listening on ws:\/\/localhost:\d+\//);
        await sleep(300);
        assert.equal(stderr, "");
      } finally {
        process.kill(-child.pid!, "SIGKILL");
        await exited;
      }
    });
  }
});
