/**
 * `healthcheck` as a container, a Kubernetes exec probe or CI runs it, against real servers: both
 * entries and the single executable; and `/readyz` turning 503 while a real server drains.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { type RunningServer, runToExit, startServer } from "./support/server.ts";
import { ENTRIES_AND_BINARY } from "./support/binary.ts";
import { handshakeHeaders, OP, RawClient } from "./support/raw.ts";
import { selfSignedCertificate } from "./support/tls.ts";

const certificate = selfSignedCertificate("echo-healthcheck-");
const TLS_ENV = certificate.env;
after(() => certificate.remove());

for (const entry of ENTRIES_AND_BINARY) {
  describe(`healthcheck on ${entry.name}`, () => {
    let server: RunningServer;
    let tls: RunningServer;
    before(async () => {
      server = await startServer(entry);
      tls = await startServer(entry, { env: TLS_ENV, permissions: ["--allow-read"] });
    });
    after(async () => {
      await server.stop();
      await tls.stop();
    });

    const check = (port: number, env: Record<string, string> = {}) =>
      runToExit(entry, { args: ["healthcheck", "--port", String(port)], env, permissions: ["--allow-read"] });

    test("a server that answers /healthz: exit 0 and one line on stdout", async () => {
      const { code, stdout } = await check(server.port);
      assert.equal(code, 0);
      assert.equal(stdout, `healthcheck: http://127.0.0.1:${server.port}/healthz answered 200\n`);
    });

    test("PORT from the environment is the port checked", async () => {
      const result = await runToExit(entry, { args: ["healthcheck"], env: { PORT: String(server.port) } });
      assert.equal(result.code, 0, result.stderr);
    });

    test("TLS_CERT_FILE set: the check asks https:// and passes with a self-signed certificate", async () => {
      const { code, stdout, stderr } = await check(tls.port, TLS_ENV);
      assert.equal(code, 0, stderr);
      assert.match(stdout, new RegExp(`https://localhost:${tls.port}/healthz answered 200`));
    });

    test("nothing listening: exit 1 and one line on stderr", async () => {
      const probe = await startServer(entry);
      await probe.stop();
      const { code, stdout, stderr } = await check(probe.port);
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.match(stderr, new RegExp(`^healthcheck: http://127\\.0\\.0\\.1:${probe.port}/healthz: .+\\n$`));
    });

    test("a bad option: exit 2 naming it, as when serving", async () => {
      const { code, stderr } = await runToExit(entry, { args: ["healthcheck", "--nope"] });
      assert.equal(code, 2);
      assert.match(stderr, /--nope: unknown option/);
    });
  });
}

describe("/readyz while draining (Deno: it waits the grace period for a silent client)", () => {
  test(
    "after SIGTERM /readyz answers 503 and /healthz 200 until the server exits",
    { timeout: 30_000 },
    async () => {
      const server = await startServer(ENTRIES_AND_BINARY[0], { env: { SHUTDOWN_GRACE_SECONDS: "5" } });
      assert.equal((await fetch(`${server.http}/readyz`)).status, 200);
      const client = await RawClient.open(server.port, handshakeHeaders());
      process.kill(server.process.pid!, "SIGTERM");
      assert.equal((await client.next())?.opcode, OP.CLOSE); // draining has begun; the client does not answer
      const ready = await fetch(`${server.http}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(await ready.text(), "draining\n");
      assert.equal((await fetch(`${server.http}/healthz`)).status, 200);
      client.destroy();
      await server.stop();
    },
  );
});
