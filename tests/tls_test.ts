import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { get } from "node:https";
import { join } from "node:path";
import WsWebSocket from "ws";
import { ENTRIES, ROOT, type RunningServer, runToExit, startServer } from "./support/server.ts";
import { selfSignedCertificate } from "./support/tls.ts";

const { dir, env: TLS_ENV, remove } = selfSignedCertificate("echo-tls-");
const cert = TLS_ENV.TLS_CERT_FILE;
const ca = readFileSync(cert);

for (const entry of ENTRIES) {
  describe(`TLS on ${entry.name}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry, { env: TLS_ENV, permissions: ["--allow-read"] }));
    after(() => server.stop());

    test("start-up announces wss://", () => {
      assert.match(server.output(), new RegExp(`listening on wss://localhost:${server.port}/`));
    });

    test("wss:// echoes text and binary with a self-signed certificate", async () => {
      const ws = new WsWebSocket(`wss://localhost:${server.port}/`, { ca });
      const echoes: Array<[boolean, string]> = [];
      await new Promise<void>((resolve, reject) => {
        ws.on("open", () => {
          ws.send("secure hello");
          ws.send(Buffer.from([1, 2, 3]));
        });
        ws.on("message", (data, isBinary) => {
          echoes.push([isBinary, isBinary ? Buffer.from(data as Buffer).toString("hex") : String(data)]);
          if (echoes.length === 2) ws.close(1000);
        });
        ws.on("close", () => resolve());
        ws.on("error", reject);
      });
      assert.deepEqual(echoes, [[false, "secure hello"], [true, "010203"]]);
    });

    test("https:// serves the plain routes", async () => {
      const body = await new Promise<string>((resolve, reject) => {
        get(`https://localhost:${server.port}/healthz`, { ca }, (response) => {
          let text = "";
          response.on("data", (chunk) => text += chunk);
          response.on("end", () => resolve(`${response.statusCode} ${text}`));
        }).on("error", reject);
      });
      assert.equal(body, "200 ok\n");
    });

    test("a refused handshake over wss://: an HTTP/1.1 client reads 503 and the reason", async () => {
      const ws = new WsWebSocket(`wss://localhost:${server.port}/?echo_status=503`, { ca });
      const refusal = await new Promise<string>((resolve, reject) => {
        ws.on("unexpected-response", (_, response) => {
          let text = "";
          response.on("data", (chunk: Buffer) => text += chunk);
          response.on("end", () => resolve(`${response.statusCode} ${text.trim()}`));
        });
        ws.on("open", () => reject(new Error("the handshake was accepted")));
        ws.on("error", reject);
      });
      assert.equal(refusal, "503 refused with 503, as asked by echo_status= (a test knob)");
    });

    // Deno 2.9.6's client retries any failed HTTP/1.1 wss:// handshake over HTTP/2 and reports only that
    // attempt's error (denoland/deno#36833, #36704; docs/deploy.md, "Deno's WebSocket client over wss://").
    test("a refused handshake over wss://: Deno's own WebSocket client reports its HTTP/2 retry, not 503", async () => {
      const client = (query: string) => runDenoClient(`wss://localhost:${server.port}/${query}`, cert);
      assert.equal(await client(""), "open", "the same client opens an accepted handshake");
      const refused = await client("?echo_status=503");
      assert.doesNotMatch(refused, /503/);
      assert.match(
        refused,
        entry.name === "deno"
          // Deno.serve offers h2 by ALPN; its HTTP/2 refuses the extended CONNECT.
          ? /^error: .*stream error received: unspecific protocol error detected$/
          // Bun.serve offers no ALPN.
          : /^error: .*Didn't receive h2 alpn, aborting connection$/,
      );
    });

    test("a missing certificate file stops start-up with status 2 naming the option", async () => {
      const { code, stderr } = await runToExit(entry, {
        env: { ...TLS_ENV, TLS_CERT_FILE: join(dir, "missing.pem") },
        permissions: ["--allow-read"],
      });
      assert.equal(code, 2);
      assert.match(stderr.trim(), /^echo: TLS_CERT_FILE: cannot read ".*missing\.pem"/);
    });

    test("TLS_CA_FILE (mutual TLS) is refused at start-up with one line naming the upstream issue, status 2", async () => {
      const { code, stderr } = await runToExit(entry, {
        env: { ...TLS_ENV, TLS_CA_FILE: cert },
        permissions: ["--allow-read"],
      });
      assert.equal(code, 2);
      const issue = entry.name === "deno" ? "denoland/deno#26825" : "oven-sh/bun#14097";
      const runtime = entry.name === "deno" ? "Deno" : "Bun";
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
      assert.match(
        stderr.trim(),
        new RegExp(`^echo: TLS_CA_FILE: mutual TLS is not available on ${runtime}: .*\\(${issue}\\)$`),
      );
    });

    test("only one of the two files set stops start-up with status 2", async () => {
      const { code, stderr } = await runToExit(entry, { env: { TLS_CERT_FILE: cert } });
      assert.equal(code, 2);
      assert.match(stderr, /TLS_CERT_FILE and TLS_KEY_FILE/);
    });
  });
}

after(() => remove());

/** Runs Deno's WebSocket client (tests/fixtures/deno_ws_client.ts) on `url`, trusting `cert`; its one line. */
function runDenoClient(url: string, cert: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      `${ROOT}node_modules/.bin/deno`,
      ["run", "--allow-net", "--cert", cert, `${ROOT}tests/fixtures/deno_ws_client.ts`, url],
      { cwd: ROOT, timeout: 20_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim()),
    )
  );
}
