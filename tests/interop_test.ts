import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { ENTRIES, ROOT, type RunningServer, startServer } from "./support/server.ts";
import {
  builtIn,
  type Client,
  type ExchangeOptions,
  expected,
  nodeWs,
  type Received,
} from "./support/clients.ts";
import { ascii, bytes } from "./conformance/case.ts";

const MIB = 1 << 20;

/** What every client sends: text, binary, empty, 1 MiB (compressible and not), and multi-byte UTF-8. */
const MESSAGES: Array<string | Uint8Array> = [
  "hello from the interoperability matrix",
  "κόσμε ✓ 🎉 日本語",
  bytes(1000, 1),
  "",
  new Uint8Array(),
  ascii(MIB),
  bytes(MIB, 2),
];

/** Debian's python3-websockets, driven by tests/support/python_client.py (`/usr/bin/python3`, not a pyenv one). */
function python(options: { compression: boolean; fragments?: number }): Client {
  return {
    name: `Python websockets${options.compression ? ", deflate" : ""}${
      options.fragments ? ", fragmented" : ""
    }`,
    exchange(url, messages) {
      const request = JSON.stringify({
        url,
        compression: options.compression,
        fragments: options.fragments ?? 1,
        messages: messages.map((m) =>
          typeof m === "string"
            ? { type: "text", data: m }
            : { type: "binary", base64: Buffer.from(m).toString("base64") }
        ),
      });
      return new Promise((resolve, reject) => {
        const child = spawn("/usr/bin/python3", [`${ROOT}tests/support/python_client.py`], {
          stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => stdout += c.toString());
        child.stderr.on("data", (c: Buffer) => stderr += c.toString());
        child.on("error", reject);
        child.on("close", (code) => {
          if (code !== 0) return reject(new Error(`python client exited ${code}: ${stderr}`));
          const result = JSON.parse(stdout) as {
            extensions: string;
            received: Array<{ type: "text"; data: string } | { type: "binary"; base64: string }>;
          };
          resolve({
            extensions: result.extensions,
            protocol: "",
            received: result.received.map((r): Received =>
              r.type === "text"
                ? r
                : { type: "binary", data: new Uint8Array(Buffer.from(r.base64, "base64")) }
            ),
          });
        });
        child.stdin.end(request);
      });
    },
  };
}

/** One row of the matrix: a client, how it is configured, and whether it must negotiate deflate on Bun. */
interface Row {
  client: Client;
  label: string;
  options?: ExchangeOptions;
  /** Whether Bun (which implements permessage-deflate) must agree to compress with this client. */
  compressesOnBun: boolean | "either";
}

const ROWS: Row[] = [
  { client: nodeWs, label: "ws", compressesOnBun: false },
  { client: nodeWs, label: "ws, fragmented (4 frames)", options: { fragments: 4 }, compressesOnBun: false },
  { client: nodeWs, label: "ws, permessage-deflate", options: { deflate: true }, compressesOnBun: true },
  {
    client: nodeWs,
    label: "ws, permessage-deflate, fragmented",
    options: { deflate: true, fragments: 4 },
    compressesOnBun: true,
  },
  {
    client: nodeWs,
    label: "ws, permessage-deflate, clientMaxWindowBits 10",
    options: { deflate: { clientMaxWindowBits: 10 } },
    compressesOnBun: true,
  },
  {
    client: nodeWs,
    label: "ws, permessage-deflate, serverMaxWindowBits 10",
    options: { deflate: { serverMaxWindowBits: 10 } },
    // Bun declines an offer that limits its window (RFC 7692 §5 allows declining).
    compressesOnBun: "either",
  },
  { client: builtIn, label: builtIn.name, compressesOnBun: "either" },
  { client: python({ compression: false }), label: "Python websockets", compressesOnBun: false },
  {
    client: python({ compression: true }),
    label: "Python websockets, permessage-deflate",
    compressesOnBun: true,
  },
  {
    client: python({ compression: true, fragments: 4 }),
    label: "Python websockets, permessage-deflate, fragmented",
    compressesOnBun: true,
  },
];

for (const entry of ENTRIES) {
  describe(`interoperability with real clients on ${entry.name}`, () => {
    let server: RunningServer;
    const matrix: string[] = [];
    before(async () => server = await startServer(entry));
    after(async () => {
      await server.stop();
      console.log(`\nInteroperability on the ${entry.name} entry:\n${matrix.join("\n")}\n`);
    });

    for (const row of ROWS) {
      test(
        `${row.label}: text, binary, empty and 1 MiB messages come back byte-exact`,
        { timeout: 60_000 },
        async () => {
          const { received, extensions } = await row.client.exchange(`${server.ws}/`, MESSAGES, row.options);
          assert.equal(received.length, MESSAGES.length);
          received.forEach((echo, i) => assert.deepEqual(echo, expected(MESSAGES[i]), `message ${i}`));
          const deflate = /permessage-deflate/.test(extensions);
          if (entry.name === "deno") {
            assert.equal(deflate, false, "Deno's WebSocket never negotiates deflate");
          } else if (row.compressesOnBun !== "either") {
            assert.equal(deflate, row.compressesOnBun, extensions);
          }
          matrix.push(`| ${row.label} | ✓ ${deflate ? "permessage-deflate" : "no extension"} |`);
        },
      );
    }
  });
}
