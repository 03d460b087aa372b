/**
 * Acceptance 1: for every offer, `/info` reports exactly the `Sec-WebSocket-Extensions` value the
 * 101 carried (none included), on every DEFLATE mode of Bun and on Deno; and lib/deflate.ts
 * predicts Bun's answer byte for byte.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENTRIES, type Entry, type RunningServer, startServer } from "./support/server.ts";
import { handshakeHeaders, RawClient } from "./support/raw.ts";
import { DEFLATE_MODES, type DeflateMode, negotiateDeflate } from "../lib/deflate.ts";

/** Offers from real clients, every window size, both takeover flags, lists, and malformed ones. */
const OFFERS: ReadonlyArray<string | null> = [
  null,
  "permessage-deflate; client_max_window_bits", // Chrome and Node ws
  "permessage-deflate", // Firefox
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits) => `permessage-deflate; client_max_window_bits=${bits}`),
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((bits) => `permessage-deflate; server_max_window_bits=${bits}`),
  "permessage-deflate; client_no_context_takeover",
  "permessage-deflate; server_no_context_takeover",
  "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
  "permessage-deflate; server_max_window_bits=10; server_no_context_takeover",
  "permessage-deflate; client_max_window_bits=10; server_max_window_bits=12; client_no_context_takeover",
  "permessage-deflate; server_max_window_bits=15; server_no_context_takeover",
  // Several offers in one header: the first that can be honoured wins.
  "permessage-deflate; server_max_window_bits=10, permessage-deflate",
  "permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits=9",
  "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits",
  "permessage-deflate, permessage-deflate; client_no_context_takeover",
  'permessage-deflate; client_max_window_bits="10"',
  "permessage-deflate\t;client_max_window_bits",
  // Malformed or unknown: declined.
  "permessage-deflate; server_max_window_bits=7",
  "permessage-deflate; server_max_window_bits=16",
  "permessage-deflate; server_max_window_bits",
  "permessage-deflate; client_max_window_bits=abc",
  "permessage-deflate; client_max_window_bits=08",
  "permessage-deflate; client_max_window_bits = 10",
  "permessage-deflate; unknown_param",
  "permessage-deflate; server_no_context_takeover=1",
  "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
  "permessage-deflate;;",
  "PERMESSAGE-DEFLATE",
  "permessage-deflatex",
  "x-webkit-deflate-frame",
  "foo; permessage-deflate",
];

interface InfoRecord {
  request: { extensions: string | null; key?: string };
  response: { extensions: string; accept?: string };
  extensionsNote?: string;
}

async function recordOf(server: RunningServer, tag: string): Promise<InfoRecord> {
  const info = await (await fetch(`${server.http}/info?tag=${tag}`)).json();
  assert.equal(info.live.length, 1, `one live connection tagged ${tag}`);
  return info.live[0];
}

const RUNS: Array<{ entry: Entry; mode?: DeflateMode }> = ENTRIES.flatMap((entry) =>
  entry.name === "bun" ? DEFLATE_MODES.map((mode) => ({ entry, mode })) : [{ entry }]
);

for (const { entry, mode } of RUNS) {
  describe(`negotiated extensions on ${entry.name}${mode ? ` with DEFLATE=${mode}` : ""}`, () => {
    let server: RunningServer;
    before(async () => server = await startServer(entry, { env: mode ? { DEFLATE: mode } : {} }));
    after(() => server.stop());

    test(`/info reports the 101's Sec-WebSocket-Extensions exactly, for ${OFFERS.length} offers`, async () => {
      const answers: string[] = [];
      for (const [i, offer] of OFFERS.entries()) {
        const tag = `offer${i}`;
        const client = await RawClient.open(
          server.port,
          handshakeHeaders({ "Sec-WebSocket-Extensions": offer }),
          {
            path: `/?tag=${tag}`,
          },
        );
        try {
          assert.equal(client.response.status, 101);
          const wire = client.response.headers.get("sec-websocket-extensions") ?? "";
          const record = await recordOf(server, tag);
          const what = `offer ${JSON.stringify(offer)}`;
          assert.equal(record.response.extensions, wire, what);
          assert.equal(record.request.extensions, offer, what);
          assert.equal(record.response.accept, client.response.headers.get("sec-websocket-accept"), what);
          if (mode) {
            assert.equal(negotiateDeflate(offer, mode), wire, `lib/deflate.ts predicts Bun for ${what}`);
          } else assert.equal(wire, "", `Deno answers no extension to ${what}`);
          if (wire === "" && /(^|,)\s*permessage-deflate\s*(;|,|$)/.test(offer ?? "")) {
            assert.ok(record.extensionsNote, `a reason in words for declining ${what}`);
          }
          answers.push(wire);
        } finally {
          client.destroy();
        }
      }
      if (mode === "shared" || mode === "dedicated") {
        assert.ok(new Set(answers).size >= (mode === "shared" ? 3 : 10), "the matrix exercises many answers");
      } else assert.deepEqual(new Set(answers), new Set([""]));
    });

    if (!mode) {
      test("Deno's record says in words that its WebSocket does not implement permessage-deflate", async () => {
        const client = await RawClient.open(
          server.port,
          handshakeHeaders({ "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits" }),
          { path: "/?tag=deno-why" },
        );
        const record = await recordOf(server, "deno-why");
        client.destroy();
        assert.match(
          record.extensionsNote ?? "",
          /Deno's native WebSocket does not implement permessage-deflate/,
        );
      });
    }
  });
}
