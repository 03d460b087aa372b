import { test } from "node:test";
import assert from "node:assert/strict";
import { bunExtensions, declineReason, DENO_EXTENSIONS, negotiateDeflate, offersDeflate } from "./deflate.ts";

const CHROME = "permessage-deflate; client_max_window_bits";
const SHARED_ANSWER = "permessage-deflate; client_no_context_takeover; server_no_context_takeover";

test("shared: every acceptable offer gets both no_context_takeover flags", () => {
  assert.equal(negotiateDeflate(CHROME, "shared"), SHARED_ANSWER);
  assert.equal(negotiateDeflate("permessage-deflate", "shared"), SHARED_ANSWER);
  assert.equal(negotiateDeflate("permessage-deflate; client_max_window_bits=9", "shared"), SHARED_ANSWER);
});

test("shared: server_max_window_bits is echoed at 15 and declines the offer below it", () => {
  assert.equal(
    negotiateDeflate("permessage-deflate; server_max_window_bits=15", "shared"),
    `${SHARED_ANSWER}; server_max_window_bits=15`,
  );
  assert.equal(negotiateDeflate("permessage-deflate; server_max_window_bits=10", "shared"), "");
  assert.equal(
    negotiateDeflate("permessage-deflate; server_max_window_bits=10, permessage-deflate", "shared"),
    SHARED_ANSWER,
  );
});

test("dedicated: the client's window and takeover requests are granted as asked", () => {
  assert.equal(negotiateDeflate(CHROME, "dedicated"), "permessage-deflate");
  assert.equal(
    negotiateDeflate("permessage-deflate; client_max_window_bits=10", "dedicated"),
    "permessage-deflate; client_max_window_bits=10",
  );
  assert.equal(
    negotiateDeflate("permessage-deflate; client_max_window_bits=15", "dedicated"),
    "permessage-deflate",
  );
  assert.equal(
    negotiateDeflate("permessage-deflate; server_max_window_bits=8", "dedicated"),
    "permessage-deflate; server_max_window_bits=8",
  );
  assert.equal(
    negotiateDeflate(
      "permessage-deflate; client_max_window_bits=10; client_no_context_takeover",
      "dedicated",
    ),
    "permessage-deflate; client_no_context_takeover",
  );
  assert.equal(
    negotiateDeflate(
      "permessage-deflate; server_no_context_takeover; server_max_window_bits=15",
      "dedicated",
    ),
    "permessage-deflate; server_no_context_takeover; server_max_window_bits=15",
  );
  assert.equal(
    negotiateDeflate(
      "permessage-deflate; server_no_context_takeover; server_max_window_bits=12",
      "dedicated",
    ),
    "",
  );
});

test("malformed, unknown, repeated or misvalued parameters decline the offer in every mode", () => {
  for (
    const offer of [
      "permessage-deflate; server_max_window_bits=7",
      "permessage-deflate; client_max_window_bits=16",
      "permessage-deflate; client_max_window_bits=08",
      "permessage-deflate; server_max_window_bits",
      "permessage-deflate; client_no_context_takeover=1",
      "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
      "permessage-deflate; x=1",
      "permessage-deflate;;",
      "PERMESSAGE-DEFLATE",
      "x-webkit-deflate-frame",
    ]
  ) {
    for (const mode of ["shared", "dedicated", "off"] as const) {
      assert.equal(negotiateDeflate(offer, mode), "", offer);
    }
  }
});

test("quoted values are values; commas inside quotes do not split offers", () => {
  assert.equal(
    negotiateDeflate('permessage-deflate; client_max_window_bits="9"', "dedicated"),
    "permessage-deflate; client_max_window_bits=9",
  );
  assert.equal(
    negotiateDeflate('permessage-deflate; client_max_window_bits="9,", permessage-deflate', "dedicated"),
    "permessage-deflate",
  );
});

test("off and no offer answer nothing", () => {
  assert.equal(negotiateDeflate(CHROME, "off"), "");
  assert.equal(negotiateDeflate(null, "shared"), "");
});

test("declineReason explains a declined deflate offer, and only that", () => {
  assert.match(
    declineReason(CHROME, "", DENO_EXTENSIONS) ?? "",
    /Deno's native WebSocket does not implement/,
  );
  assert.match(declineReason(CHROME, "", bunExtensions("off")) ?? "", /DEFLATE=off/);
  assert.match(declineReason("permessage-deflate; x", "", bunExtensions("shared")) ?? "", /RFC 7692/);
  assert.equal(declineReason(CHROME, SHARED_ANSWER, bunExtensions("shared")), undefined);
  assert.equal(declineReason(null, "", DENO_EXTENSIONS), undefined);
  assert.equal(declineReason("x-webkit-deflate-frame", "", DENO_EXTENSIONS), undefined);
  assert.equal(offersDeflate("foo, permessage-deflate; bar"), true);
});

test("bunExtensions answers each offer as negotiateDeflate does, repeated or alternating", () => {
  const offers = [
    CHROME,
    CHROME,
    null,
    "permessage-deflate; server_max_window_bits=10",
    CHROME,
    "permessage-deflate; client_no_context_takeover",
    "permessage-deflate; client_no_context_takeover",
    null,
  ];
  for (const mode of ["shared", "dedicated"] as const) {
    const policy = bunExtensions(mode);
    assert.deepEqual(
      offers.map((offer) => policy.negotiate(offer)),
      offers.map((o) => negotiateDeflate(o, mode)),
    );
  }
});
