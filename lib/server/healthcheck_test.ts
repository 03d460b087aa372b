import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Settings } from "./cli.ts";
import { type Config, DEFAULTS } from "../config.ts";
import { healthcheck, healthcheckUrl, isHealthcheck } from "./healthcheck.ts";

function settings(config: Partial<Config>, tls = false): Settings {
  return {
    config: { ...DEFAULTS, ...config },
    tls: tls ? { cert: "", key: "" } : undefined,
    logFormat: "json",
  };
}

const get = (url: string, signal: AbortSignal) => fetch(url, { signal });

describe("healthcheck", () => {
  test("only a first argument `healthcheck` asks for it", () => {
    assert.equal(isHealthcheck(["healthcheck"]), true);
    assert.equal(isHealthcheck(["healthcheck", "--port", "1"]), true);
    assert.equal(isHealthcheck(["--port", "1", "healthcheck"]), false);
    assert.equal(isHealthcheck([]), false);
  });

  test("a wildcard bind is asked on loopback; with TLS by the name localhost", () => {
    assert.equal(healthcheckUrl(settings({ port: 8181 })), "http://127.0.0.1:8181/healthz");
    assert.equal(healthcheckUrl(settings({ host: "::", port: 1 })), "http://127.0.0.1:1/healthz");
    assert.equal(healthcheckUrl(settings({ host: "::1", port: 1 })), "http://[::1]:1/healthz");
    assert.equal(healthcheckUrl(settings({ host: "10.0.0.5", port: 1 })), "http://10.0.0.5:1/healthz");
    assert.equal(healthcheckUrl(settings({ port: 443 }, true)), "https://localhost:443/healthz");
    assert.equal(
      healthcheckUrl(settings({ host: "echo.test", port: 1 }, true)),
      "https://echo.test:1/healthz",
    );
  });

  test("port 0 cannot be checked: 1 with a line saying why", async () => {
    const result = await healthcheck(settings({ port: 0 }), get);
    assert.equal(result.code, 1);
    assert.match(result.message, /^healthcheck: PORT is 0/);
  });

  describe("against a local HTTP server", () => {
    let server: Server;
    let port: number;
    let status = 200;
    before(async () => {
      server = createServer((request, response) => {
        if (request.url === "/slow") return; // never answers
        response.writeHead(request.url === "/healthz" ? status : 404).end("ok\n");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    test("200 → 0", async () => {
      status = 200;
      assert.deepEqual(await healthcheck(settings({ port }), get), {
        code: 0,
        message: `healthcheck: http://127.0.0.1:${port}/healthz answered 200`,
      });
    });

    test("503 → 1 naming the status", async () => {
      status = 503;
      const result = await healthcheck(settings({ port }), get);
      assert.equal(result.code, 1);
      assert.equal(result.message, `healthcheck: http://127.0.0.1:${port}/healthz answered 503`);
    });

    test("no answer within the timeout → 1 saying so", async () => {
      const slow = (_: string, signal: AbortSignal) => fetch(`http://127.0.0.1:${port}/slow`, { signal });
      const result = await healthcheck(settings({ port }), slow, 200);
      assert.equal(result.code, 1);
      assert.match(result.message, /no answer within 200 ms$/);
    });
  });

  test("nothing listening → 1 with a one-line reason", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const result = await healthcheck(settings({ port }), get);
    assert.equal(result.code, 1);
    assert.match(result.message, new RegExp(`^healthcheck: http://127\\.0\\.0\\.1:${port}/healthz: \\S`));
    assert.equal(result.message.includes("\n"), false);
  });
});
