/**
 * The container image as a user runs it: `npm run image` (scripts/image.sh, this machine's architecture),
 * then `podman run -p PORT:8181 echo-ws:latest` with no arguments. Echo and /info answer, the process is
 * not root, the image's HEALTHCHECK passes, and `podman stop` gives every client 1001 and ends within
 * the grace period. `npm run image:run` (the README's line) serves on PORT and stops with npm. Also the
 * arm64 executable, serving under qemu-user, with the C library files the arm64 image copies
 * (libc6-arm64-cross).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { arch } from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { type Entry, ROOT, type RunningServer, startServer } from "./support/server.ts";
import { freePort } from "./support/nginx.ts";
import { closePayload, handshakeHeaders, OP, parseClose, RawClient, readyz } from "./support/raw.ts";

const run = promisify(execFile);
const ENV = { ...process.env, CONTAINERS_CONF: `${ROOT}deploy/containers.conf` };
const VERSION: string = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")).version;
const OWN = arch === "arm64" ? "arm64" : "amd64";
const FOREIGN = OWN === "arm64" ? "amd64" : "arm64";

function podman(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run("podman", args, { env: ENV });
}

async function echoes(port: number, text: string): Promise<void> {
  const client = await RawClient.open(port, handshakeHeaders());
  assert.equal(client.response.status, 101);
  client.send({ opcode: OP.TEXT, payload: text });
  client.send({ opcode: OP.BINARY, payload: new Uint8Array([0, 1, 255]) });
  const [echoed, binary] = [await client.next(), await client.next()];
  assert.equal(new TextDecoder().decode(echoed!.payload), text);
  assert.deepEqual([...binary!.payload], [0, 1, 255]);
  client.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
  assert.equal((await client.next())?.opcode, OP.CLOSE);
  client.destroy();
}

describe("container image", { timeout: 180_000 }, () => {
  const name = `echo-ws-test-${process.pid}`;
  let port: number;
  // Built while the tests are collected, not in the hook: building takes seconds, and Bun holds a hook to
  // its 5 s default whatever the hook's own timeout says.
  execFileSync("bash", [`${ROOT}scripts/image.sh`, OWN], { cwd: ROOT, env: ENV, stdio: "ignore" });

  before(async () => {
    port = await freePort();
    await podman("rm", "-f", name);
    // Exactly what the docs tell users to run, on a loopback port: no command, no arguments, no env.
    await podman("run", "-d", "--name", name, "-p", `127.0.0.1:${port}:8181`, "echo-ws:latest");
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) return;
      } catch { /* not up yet */ }
      await sleep(100);
    }
    throw new Error(`the container did not answer /healthz:\n${(await podman("logs", name)).stdout}`);
  });
  after(() => podman("rm", "-f", name).then(() => undefined, () => undefined));

  test("echoes on :8181 published, and /info reports Bun as PID 1", async () => {
    await echoes(port, "from the container");
    const info = await (await fetch(`http://127.0.0.1:${port}/info`)).json();
    assert.equal(info.runtime.name, "Bun");
    assert.equal(info.echo.version, VERSION);
    assert.equal(info.process.pid, 1, "the executable is PID 1 and gets the stop signal itself");
  });

  test("curl -s /anything names the container's hostname, as Podman set it", async () => {
    const { stdout } = await podman("inspect", "--format", "{{.Config.Hostname}}", name);
    const hostname = stdout.trim();
    assert.match(hostname, /^[0-9a-z][0-9a-z.-]*$/, "podman reports a hostname");
    const echoed = await (await fetch(`http://127.0.0.1:${port}/anything`)).json();
    assert.equal(echoed.servedBy.hostname, hostname);
    const landing = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    assert.match(landing.split("\n")[1], new RegExp(`^Served by ${RegExp.escape(hostname)} \\(Bun `));
  });

  test("its process runs as user 10001, not root", async () => {
    const { stdout } = await podman("top", name, "huser", "user");
    const [, row] = stdout.trim().split("\n");
    assert.deepEqual(row.trim().split(/\s+/), ["10001", "echo"]);
  });

  test("the image's HEALTHCHECK (echo-ws healthcheck) passes", async () => {
    const { stdout } = await podman("inspect", "--format", "{{json .Config.Healthcheck.Test}}", name);
    assert.deepEqual(JSON.parse(stdout), ["CMD", "/usr/local/bin/echo-ws", "healthcheck"]);
    // `podman healthcheck run` exits 0 when the check does; rejects otherwise.
    await podman("healthcheck", "run", name);
  });

  test("OCI labels carry the package version, source and licence", async () => {
    const { stdout } = await podman("image", "inspect", "--format", "{{json .Labels}}", "echo-ws:latest");
    const labels = JSON.parse(stdout);
    assert.equal(labels["org.opencontainers.image.version"], VERSION);
    assert.ok(labels["org.opencontainers.image.source"]);
    assert.ok(labels["org.opencontainers.image.licenses"]);
  });

  test("podman stop: every client gets close 1001, the process exits 0 within the grace period", async () => {
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => RawClient.open(port, handshakeHeaders())),
    );
    const start = Date.now();
    // A stop timeout above SHUTDOWN_GRACE_SECONDS (10): Podman must not need its SIGKILL.
    const stopped = podman("stop", "-t", "30", name);
    const closes = await Promise.all(clients.map(async (client) => {
      const frame = await client.next();
      assert.equal(frame?.opcode, OP.CLOSE);
      client.send({ opcode: OP.CLOSE, payload: frame!.payload.subarray(0, 2) });
      return parseClose(frame!.payload);
    }));
    await stopped;
    const took = Date.now() - start;
    for (const close of closes) assert.deepEqual(close, { code: 1001, reason: "server shutting down" });
    const { stdout } = await podman("inspect", "--format", "{{.State.ExitCode}}", name);
    assert.equal(stdout.trim(), "0");
    assert.ok(took < 10_000, `stopped after ${took} ms, within the 10 s grace period`);
    clients.forEach((client) => client.destroy());
  });

  test(
    "podman stop with a client that never answers the close: /readyz 503 until the grace period ends, exit 0",
    {
      timeout: 60_000,
    },
    async () => {
      const drained = `${name}-drain`;
      const drainPort = await freePort();
      await podman("rm", "-f", drained);
      await podman(
        "run",
        "-d",
        "--name",
        drained,
        "-e",
        "SHUTDOWN_GRACE_SECONDS=2",
        "-p",
        `127.0.0.1:${drainPort}:8181`,
        "echo-ws:latest",
      );
      try {
        for (let i = 0; i < 200 && await readyz(drainPort) !== 200; i++) await sleep(100);
        // Keeps its side open after Bun's FIN, as a frozen client would.
        const client = await RawClient.open(drainPort, handshakeHeaders(), { allowHalfOpen: true });
        const start = Date.now();
        let stoppedAt = 0;
        const stopped = podman("stop", "-t", "30", drained).then(() => stoppedAt = Date.now());
        assert.equal((await client.next())?.opcode, OP.CLOSE);
        const ready: Array<[number, number | string]> = [];
        for (const at of [500, 1500]) {
          await sleep(start + at - Date.now());
          ready.push([at, await readyz(drainPort)]);
        }
        assert.deepEqual(ready, [[500, 503], [1500, 503]], "/readyz during the grace period");
        await stopped;
        const took = stoppedAt - start;
        assert.ok(took >= 1900, `stopped after ${took} ms, before the 2 s grace period ended`);
        const { stdout } = await podman("inspect", "--format", "{{.State.ExitCode}}", drained);
        assert.equal(stdout.trim(), "0");
        client.destroy();
      } finally {
        await podman("rm", "-f", drained).catch(() => undefined);
      }
    },
  );
});

describe("npm run image:run, the README's container line", { timeout: 120_000 }, () => {
  test("publishes PORT with deploy/containers.conf, and npm's SIGTERM stops the container", {
    timeout: 120_000,
  }, async () => {
    execFileSync("bash", [`${ROOT}scripts/image.sh`, OWN], { cwd: ROOT, env: ENV, stdio: "ignore" });
    const port = await freePort();
    // The environment a user has: no CONTAINERS_CONF; the script sets it.
    const env: Record<string, string | undefined> = { ...process.env, PORT: String(port) };
    delete env.CONTAINERS_CONF;
    const npm = spawn("npm", ["run", "image:run"], {
      cwd: ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    npm.stdout!.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
    npm.stderr!.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
    const exited = new Promise<number | null>((resolve) => npm.once("exit", (code) => resolve(code)));
    try {
      let healthy = false;
      for (let i = 0; i < 300 && !healthy && npm.exitCode === null; i++) {
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status === 200, () => false);
        if (!healthy) await sleep(100);
      }
      assert.ok(healthy, `no answer on ${port}:\n${output}`);
      await echoes(port, "from npm run image:run");
      process.kill(npm.pid!, "SIGTERM");
      const code = await Promise.race([exited, sleep(15_000).then(() => "still running")]);
      assert.equal(code, 0, output);
      assert.match(output, /"event":"shutdown complete"/);
    } finally {
      try {
        process.kill(-npm.pid!, "SIGKILL");
      } catch { /* gone */ }
      await exited;
    }
  });
});

describe(
  `the ${FOREIGN} executable under qemu-user, with Debian's cross C library`,
  { timeout: 120_000 },
  () => {
    let server: RunningServer;
    // Built while the tests are collected, as above.
    execFileSync("bash", [`${ROOT}scripts/build.sh`, `linux-${FOREIGN === "arm64" ? "arm64" : "x64"}`], {
      cwd: ROOT,
      stdio: "ignore",
    });
    before(async () => {
      const triplet = FOREIGN === "arm64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";
      const entry: Entry = {
        name: `qemu-${FOREIGN}`,
        command: () => [
          `qemu-${triplet.split("-")[0]}-static`,
          "-L",
          `/usr/${triplet}`,
          `${ROOT}dist/echo-ws-linux-${FOREIGN === "arm64" ? "arm64" : "x64"}`,
        ],
      };
      server = await startServer(entry);
    });
    after(() => server?.stop());

    test("serves and echoes", async () => {
      await echoes(server.port, `from ${FOREIGN}`);
      assert.match(server.stdout(), /Echo on Bun [\d.]+ listening/);
    });
  },
);
