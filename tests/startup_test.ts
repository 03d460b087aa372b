/**
 * Start-up failures as a user meets them: the port in use, a low port without the privilege, a HOST that
 * is not this machine's, a key that is not the certificate's. Each is one line on stderr naming the
 * option that changes it, nothing on stdout, exit status 2: on both entries, the single executable, Bun's
 * `--workers`, the README's `npm start` / `npm run start:bun`, and `npm run image:run`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import process from "node:process";
import { ENTRIES, ROOT } from "./support/server.ts";
import { ENTRIES_AND_BINARY } from "./support/binary.ts";
import { selfSignedCertificate, type TestCertificate } from "./support/tls.ts";

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` to its end (or kills it after 20 s, when it started serving instead of failing). */
function runToEnd(command: string[], env: Record<string, string> = {}): Promise<Ended> {
  const child = spawn(command[0], command.slice(1), {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk);
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 20_000);
  return new Promise((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    })
  );
}

/** Exit 2, one line on stderr matching `line`, and nothing on stdout but what `stdout` allows. */
function assertOneLine(ended: Ended, line: RegExp, stdout = ""): void {
  assert.equal(ended.code, 2, `${ended.stdout}${ended.stderr}`);
  assert.equal(ended.stdout, stdout);
  const lines = ended.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, ended.stderr);
  assert.match(lines[0], line);
}

const LONG = { timeout: 60_000 };
const IN_USE = (port: number) =>
  new RegExp(
    `^echo: PORT: ${port} is in use \\((AddrInUse|EADDRINUSE)\\); choose another with PORT=9000 or --port 9000$`,
  );

describe("start-up failures", () => {
  /** A port this test holds on loopback, as another program would. */
  let taken: Server;
  let port: number;
  let certificates: TestCertificate[];
  before(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    port = (taken.address() as { port: number }).port;
    certificates = [selfSignedCertificate("echo-startup-a-"), selfSignedCertificate("echo-startup-b-")];
  });
  after(() => {
    taken.close();
    certificates.forEach((c) => c.remove());
  });

  for (const entry of ENTRIES_AND_BINARY) {
    describe(entry.name, () => {
      const command = (permissions: string[] = []) => entry.command(undefined, permissions);

      test("the port in use: one line naming PORT, exit 2", LONG, async () => {
        const ended = await runToEnd([...command(), "--port", String(port), "--host", "127.0.0.1"]);
        assertOneLine(ended, IN_USE(port));
      });

      test("a port below 1024 without the privilege: one line naming PORT, exit 2", LONG, async () => {
        const start = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
        assert.ok(start > 80, `ip_unprivileged_port_start is ${start}: port 80 is no privilege here`);
        // Root without CAP_NET_BIND_SERVICE, as any other user is.
        const unprivileged = process.getuid?.() === 0 ? ["setpriv", "--bounding-set=-net_bind_service"] : [];
        const ended = await runToEnd([...unprivileged, ...command(), "--port", "80", "--host", "127.0.0.1"]);
        assertOneLine(
          ended,
          /^echo: PORT: not allowed to listen on 80 \((PermissionDenied|EACCES)\): ports below 1024 need root or CAP_NET_BIND_SERVICE; choose another with PORT=8181 or --port 8181$/,
        );
      });

      test("a HOST that is not this machine's: one line naming HOST, exit 2", LONG, async () => {
        // 192.0.2.1: TEST-NET-1 (RFC 5737), no machine's own address.
        const ended = await runToEnd([...command(), "--port", "0"], { HOST: "192.0.2.1" });
        assertOneLine(
          ended,
          /^echo: HOST: cannot listen on "192\.0\.2\.1", not an address of this machine \(\w+\); /,
        );
      });

      test("a key that is not the certificate's: one line naming TLS_KEY_FILE, exit 2", LONG, async () => {
        const env = { ...certificates[0].env, TLS_KEY_FILE: certificates[1].env.TLS_KEY_FILE };
        const ended = await runToEnd(
          [...command(["--allow-read"]), "--port", "0", "--host", "127.0.0.1"],
          env,
        );
        assertOneLine(ended, /^echo: TLS_KEY_FILE: not the key of TLS_CERT_FILE's certificate \(.+\); /);
      });
    });
  }

  test("bun --workers 2 with the port in use: the line once, exit 2", LONG, async () => {
    const bun = ENTRIES.find((entry) => entry.name === "bun")!;
    const ended = await runToEnd([
      ...bun.command(),
      "--workers",
      "2",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
    ]);
    assertOneLine(ended, IN_USE(port));
  });

  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8"));
  for (const script of ["start", "start:bun"]) {
    test(
      `npm run ${script} with the port in use: npm's banner, then the one line, exit 2`,
      LONG,
      async () => {
        const ended = await runToEnd(["npm", "run", script], { PORT: String(port), HOST: "127.0.0.1" });
        const banner = `\n> ${pkg.name}@${pkg.version} ${script}\n> ${pkg.scripts[script]}\n\n`;
        assertOneLine(ended, IN_USE(port), banner);
      },
    );
  }

  test(
    "npm run image:run with the port in use: one line naming PORT, exit 2, no container",
    LONG,
    async () => {
      const ended = await runToEnd(["npm", "run", "image:run"], { PORT: String(port) });
      const banner = `\n> ${pkg.name}@${pkg.version} image:run\n> ${pkg.scripts["image:run"]}\n\n`;
      assertOneLine(
        ended,
        new RegExp(
          `^echo: PORT: ${port} is in use on this machine; choose another with PORT=9000 npm run image:run$`,
        ),
        banner,
      );
    },
  );
});
