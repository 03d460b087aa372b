import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { get } from "node:https";
import { join } from "node:path";
import WsWebSocket from "ws";
import { ENTRIES, type RunningServer, runToExit, startServer } from "./support/server.ts";
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

    test("a missing certificate file stops start-up with status 2 naming the option", async () => {
      const { code, stderr } = await runToExit(entry, {
        env: { ...TLS_ENV, TLS_CERT_FILE: join(dir, "missing.pem") },
        permissions: ["--allow-read"],
      });
      assert.equal(code, 2);
      assert.match(stderr.trim(), /^echo: TLS_CERT_FILE: cannot read ".*missing\.pem"/);
    });

    test("only one of the two files set stops start-up with status 2", async () => {
      const { code, stderr } = await runToExit(entry, { env: { TLS_CERT_FILE: cert } });
      assert.equal(code, 2);
      assert.match(stderr, /TLS_CERT_FILE and TLS_KEY_FILE/);
    });
  });
}

after(() => remove());
