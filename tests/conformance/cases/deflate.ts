/**
 * permessage-deflate (RFC 7692): negotiation, compressed and uncompressed messages, bad
 * compressed data and a decompression bomb. A server may decline the extension (§5); every
 * case then checks the declined path instead — RSV1 must then fail the connection — and
 * counts as non-strict, so the table shows which entry actually compresses.
 *
 * @module
 */
import { constants, deflateRawSync } from "node:zlib";
import { encodeFrame, OP } from "../../support/raw.ts";
import {
  ascii,
  binary,
  bytes,
  type CaseSpec,
  echoed,
  failed,
  frames,
  group,
  hexBytes,
  pong,
  STILL_ECHOES,
  stillEchoes,
  text,
} from "../case.ts";
import { zeroBomb } from "../deflate.ts";
import type { Trace, Wire } from "../wire.ts";

const CHROME = "permessage-deflate; client_max_window_bits";
const DECLINED =
  "the server declined permessage-deflate (RFC 7692 §5 allows it); RSV1 then fails the connection";
const MIB = 1 << 20;

/** The negotiation outcome as a trace marker, judged against the offer (RFC 7692 §7.1). */
function negotiated(w: Wire, offer: string): string {
  const response = w.client.response.headers.get("sec-websocket-extensions");
  if (!w.codec) return "mark declined";
  const p = w.codec.params;
  const offered = (name: string) => new RegExp(`${name}(=(\\d+))?`).exec(offer);
  const serverBits = offered("server_max_window_bits");
  if (offered("server_no_context_takeover") && !p.serverNoContextTakeover) {
    return `mark ignored server_no_context_takeover: ${response}`;
  }
  if (serverBits?.[2] && p.serverMaxWindowBits > Number(serverBits[2])) {
    return `mark answered a server window above the offer: ${response}`;
  }
  return "mark accepted";
}

/** A case on a connection that offered `offer`; `script` runs whether or not it was accepted. */
function deflateCase(spec: {
  title: string;
  rfc: string;
  offer?: string;
  script: (w: Wire) => void | Promise<void>;
  expect: Trace | Trace[];
  /** The trace when declined; by default the connection fails with 1002 on RSV1. */
  declined?: Trace;
  timeoutMs?: number;
  then?: (port: number) => Promise<Trace>;
  variants?: Array<{ trace: Trace; note: string }>;
}): CaseSpec {
  const offer = spec.offer ?? CHROME;
  return frames({
    title: spec.title,
    rfc: spec.rfc,
    open: { offer },
    async script(w) {
      w.mark(negotiated(w, offer).slice(5));
      await spec.script(w);
    },
    expect: spec.expect,
    variants: [...spec.variants ?? [], {
      trace: ["mark declined", ...spec.declined ?? failed(1002)],
      note: DECLINED,
    }],
    timeoutMs: spec.timeoutMs,
    then: spec.then,
  });
}

const accepted = (...events: string[]): Trace => ["mark accepted", ...events];

const specs: CaseSpec[] = [];

const GOOD_OFFERS: Array<[string, string]> = [
  ["permessage-deflate", "RFC 7692 §5, §7"],
  [CHROME, "RFC 7692 §7.1.2.1"],
  ["permessage-deflate; client_max_window_bits=10", "RFC 7692 §7.1.2.1"],
  ["permessage-deflate; client_max_window_bits=15", "RFC 7692 §7.1.2.1"],
  ["permessage-deflate; server_max_window_bits=10", "RFC 7692 §7.1.2.2 (answer ≤ the offer or decline)"],
  ["permessage-deflate; server_max_window_bits=15", "RFC 7692 §7.1.2.2"],
  ["permessage-deflate; server_no_context_takeover", "RFC 7692 §7.1.1.1 (MUST be answered in kind)"],
  ["permessage-deflate; client_no_context_takeover", "RFC 7692 §7.1.1.2"],
  [
    "permessage-deflate; client_no_context_takeover; server_no_context_takeover; client_max_window_bits=12",
    "RFC 7692 §7.1",
  ],
  ['permessage-deflate; server_max_window_bits="12"', "RFC 7692 §7.1 (quoted-string values), RFC 6455 §9.1"],
  [
    "permessage-deflate; unknown_param, permessage-deflate",
    "RFC 7692 §5.1 (decline a bad offer, take the next)",
  ],
  ["x-webkit-deflate-frame, permessage-deflate", "RFC 6455 §9.1, RFC 7692 §5"],
];
for (const [offer, rfc] of GOOD_OFFERS) {
  const message = ascii(1000);
  specs.push(deflateCase({
    title: `offer "${offer}" is accepted and a compressed message echoes`,
    rfc,
    offer,
    script: (w) => w.message(OP.TEXT, message, { compress: true }),
    expect: accepted(...echoed(text(message))),
  }));
}
const BAD_OFFERS: Array<[string, string]> = [
  ["permessage-deflate; unknown_param", "RFC 7692 §5.1 (unknown parameter: decline)"],
  ["permessage-deflate; server_max_window_bits=7", "RFC 7692 §7.1.2.2 (8 to 15 only)"],
  ["permessage-deflate; server_max_window_bits=16", "RFC 7692 §7.1.2.2"],
  ["permessage-deflate; client_max_window_bits=abc", "RFC 7692 §7.1.2.1"],
  [
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "RFC 7692 §7 (no duplicates)",
  ],
  ["permessage-deflate; server_no_context_takeover=1", "RFC 7692 §7.1.1.1 (no value allowed)"],
];
for (const [offer, rfc] of BAD_OFFERS) {
  specs.push(deflateCase({
    title: `invalid offer "${offer}" is declined; plain messages still echo`,
    rfc,
    offer,
    script: (w) => w.message(OP.TEXT, "plain"),
    expect: ["mark declined", ...echoed(text("plain"))],
    declined: echoed(text("plain")),
  }));
}

const MESSAGES: Array<[string, number, Uint8Array | string]> = [
  ["short text", OP.TEXT, "Hello, compressed world"],
  ["64 KiB text", OP.TEXT, ascii(65536)],
  ["1 MiB of random binary", OP.BINARY, bytes(MIB, 21)],
  ["1 MiB of zeros", OP.BINARY, new Uint8Array(MIB)],
  ["empty text", OP.TEXT, ""],
  ["empty binary", OP.BINARY, new Uint8Array()],
  ["multi-byte UTF-8 text", OP.TEXT, "κόσμε 日本語 🎉 ".repeat(50)],
];
const echo = (op: number, data: Uint8Array | string) => op === OP.TEXT ? text(data) : binary(data);
for (const [name, op, data] of MESSAGES) {
  specs.push(
    deflateCase({
      title: `compressed ${name}`,
      rfc: "RFC 7692 §6.1, §7.2",
      script: (w) => w.message(op, data, { compress: true }),
      expect: accepted(...echoed(echo(op, data))),
      timeoutMs: 20_000,
    }),
    deflateCase({
      title: `compressed ${name} in 5 fragments (RSV1 on the first only)`,
      rfc: "RFC 7692 §6.1 (per message, RSV1 on the first frame)",
      script: (w) => w.message(op, data, { compress: true, fragments: 5 }),
      expect: accepted(...echoed(echo(op, data))),
      timeoutMs: 20_000,
    }),
  );
}
specs.push(
  deflateCase({
    title: "uncompressed text on a deflate connection",
    rfc: "RFC 7692 §6 (RSV1 clear: not compressed)",
    script: (w) => w.message(OP.TEXT, ascii(500)),
    expect: accepted(...echoed(text(ascii(500)))),
    declined: echoed(text(ascii(500))),
  }),
  deflateCase({
    title: "uncompressed binary on a deflate connection",
    rfc: "RFC 7692 §6",
    script: (w) => w.message(OP.BINARY, bytes(500)),
    expect: accepted(...echoed(binary(bytes(500)))),
    declined: echoed(binary(bytes(500))),
  }),
  deflateCase({
    title: "compressed and uncompressed messages alternating",
    rfc: "RFC 7692 §6",
    async script(w) {
      for (let i = 0; i < 10; i++) await w.message(OP.TEXT, `${i} ${ascii(200)}`, { compress: i % 2 === 0 });
    },
    expect: accepted(...echoed(...Array.from({ length: 10 }, (_, i) => text(`${i} ${ascii(200)}`)))),
  }),
  deflateCase({
    title: "50 similar compressed messages (context takeover where the server allows it)",
    rfc: "RFC 7692 §7.1.1 (context takeover)",
    offer: "permessage-deflate",
    async script(w) {
      for (let i = 0; i < 50; i++) {
        await w.message(OP.TEXT, `message ${i % 3} ${ascii(300)}`, { compress: true });
      }
    },
    expect: accepted(
      ...echoed(...Array.from({ length: 50 }, (_, i) => text(`message ${i % 3} ${ascii(300)}`))),
    ),
  }),
  deflateCase({
    title: "a compressed message with a ping between its fragments",
    rfc: "RFC 7692 §6.1, RFC 6455 §5.4",
    async script(w) {
      const data = w.codec ? await w.codec.compress(new TextEncoder().encode(ascii(3000))) : hexBytes("00");
      w.send({ opcode: OP.TEXT, fin: false, rsv1: true, payload: data.subarray(0, 10) });
      w.send({ opcode: OP.PING, payload: "mid" });
      w.send({ opcode: OP.CONT, payload: data.subarray(10) });
    },
    expect: accepted(...echoed(pong("mid"), text(ascii(3000)))),
  }),
  deflateCase({
    title: "a compressed message written one byte at a time",
    rfc: "RFC 7692 §6.1",
    async script(w) {
      const data = w.codec
        ? await w.codec.compress(new TextEncoder().encode("chopped and compressed"))
        : hexBytes("00");
      await w.chop(encodeFrame({ opcode: OP.TEXT, rsv1: true, payload: data }), 1);
    },
    expect: accepted(...echoed(text("chopped and compressed"))),
  }),
  deflateCase({
    title: "a message compressed with a final block (BFINAL = 1) is accepted",
    rfc: "RFC 7692 §7.2.3.4",
    script(w) {
      const data = deflateRawSync(new TextEncoder().encode(ascii(400)), { finishFlush: constants.Z_FINISH });
      w.send({ opcode: OP.TEXT, rsv1: true, payload: data });
    },
    expect: accepted(...echoed(text(ascii(400)))),
  }),
  deflateCase({
    title: "RSV1 on a continuation frame fails the connection",
    rfc: "RFC 7692 §6.1 (RSV1 only on the first frame)",
    async script(w) {
      const data = w.codec ? await w.codec.compress(new TextEncoder().encode(ascii(300))) : hexBytes("00");
      w.send({ opcode: OP.TEXT, fin: false, rsv1: true, payload: data.subarray(0, 5) });
      w.send({ opcode: OP.CONT, rsv1: true, payload: data.subarray(5) });
    },
    expect: accepted(...failed(1002)),
  }),
  deflateCase({
    title: "RSV1 on a ping fails the connection",
    rfc: "RFC 7692 §6.1 (control frames are never compressed)",
    script: (w) => w.send({ opcode: OP.PING, rsv1: true, payload: "x" }),
    expect: accepted(...failed(1002)),
  }),
  deflateCase({
    title: "RSV1 on a close frame fails the connection",
    rfc: "RFC 7692 §6.1",
    script: (w) => w.send({ opcode: OP.CLOSE, rsv1: true, payload: new Uint8Array([3, 232]) }),
    expect: accepted(...failed(1002)),
  }),
  deflateCase({
    title: "RSV2 on a compressed message fails the connection",
    rfc: "RFC 6455 §5.2 (permessage-deflate defines RSV1 only)",
    script: (w) => w.send({ opcode: OP.TEXT, rsv1: true, rsv2: true, payload: hexBytes("f248cdc9c907 00") }),
    expect: accepted(...failed(1002)),
  }),
  deflateCase({
    title: "invalid compressed data fails the connection; the server goes on serving",
    rfc: "RFC 7692 §8 (a corrupt message fails the connection)",
    script: (w) => w.send({ opcode: OP.BINARY, rsv1: true, payload: hexBytes("ff ff ff ff de ad be ef") }),
    expect: [accepted(...failed(1007), ...STILL_ECHOES), accepted(...failed(1002), ...STILL_ECHOES)],
    declined: [...failed(1002), ...STILL_ECHOES],
    then: stillEchoes,
  }),
  deflateCase({
    title: "compressed text that inflates to invalid UTF-8 fails with 1007",
    rfc: "RFC 7692 §6.1, RFC 6455 §8.1",
    async script(w) {
      const bad = hexBytes("48 65 6c 6c 6f ed a0 80");
      const data = w.codec ? await w.codec.compress(bad) : hexBytes("00");
      w.send({ opcode: OP.TEXT, rsv1: true, payload: data });
    },
    expect: accepted(...failed(1007)),
  }),
);
for (const mib of [64, 1024]) {
  specs.push(deflateCase({
    title: `a decompression bomb (${mib} MiB of zeros in ${mib} KiB) is refused; the server goes on serving`,
    rfc: "RFC 7692 §8.1, RFC 6455 §10.4 (limit what is inflated), §7.4.1 (1009)",
    script: (w) => w.send({ opcode: OP.BINARY, rsv1: true, payload: zeroBomb(mib) }),
    expect: accepted(...failed(1009), ...STILL_ECHOES),
    declined: [...failed(1002), ...STILL_ECHOES],
    timeoutMs: 30_000,
    then: stillEchoes,
  }));
}
specs.push(deflateCase({
  title: "a decompression bomb in 16 fragments is refused; the server goes on serving",
  rfc: "RFC 7692 §8.1, RFC 6455 §10.4",
  script: (w) => {
    const bomb = zeroBomb(256);
    const size = Math.ceil(bomb.length / 16);
    for (let i = 0; i < 16; i++) {
      w.send({
        opcode: i ? OP.CONT : OP.BINARY,
        fin: i === 15,
        rsv1: i === 0,
        payload: bomb.subarray(i * size, (i + 1) * size),
      });
    }
  },
  expect: accepted(...failed(1009), ...STILL_ECHOES),
  declined: [...failed(1002), ...STILL_ECHOES],
  timeoutMs: 30_000,
  then: stillEchoes,
}));

/** The permessage-deflate group. */
export const DEFLATE = group("permessage-deflate", specs);
