/**
 * Pings and pongs (RFC 6455 §5.5, §5.5.2, §5.5.3).
 *
 * @module
 */
import { encodeFrame, OP } from "../../support/raw.ts";
import { ascii, bytes, type CaseSpec, echoed, failed, frames, group, pong, text } from "../case.ts";

const specs: CaseSpec[] = [
  frames({
    title: "an empty ping is answered by an empty pong",
    rfc: "RFC 6455 §5.5.2",
    script: (w) => w.send({ opcode: OP.PING }),
    expect: echoed(pong()),
  }),
];
for (const length of [1, 10, 64, 124, 125]) {
  const payload = ascii(length);
  specs.push(frames({
    title: `a ping with ${length} bytes of text is answered with the same application data`,
    rfc: "RFC 6455 §5.5.3 (pong carries the ping's application data)",
    script: (w) => w.send({ opcode: OP.PING, payload }),
    expect: echoed(pong(payload)),
  }));
}
const allBytes = bytes(125, 99);
specs.push(
  frames({
    title: "a ping with 125 bytes of binary data",
    rfc: "RFC 6455 §5.5.3",
    script: (w) => w.send({ opcode: OP.PING, payload: allBytes }),
    expect: echoed(pong(allBytes)),
  }),
  frames({
    title: "a ping whose payload is invalid UTF-8 is still answered (control data is not text)",
    rfc: "RFC 6455 §5.5.2",
    script: (w) => w.send({ opcode: OP.PING, payload: new Uint8Array([0xff, 0xfe, 0xc0]) }),
    expect: echoed(pong(new Uint8Array([0xff, 0xfe, 0xc0]))),
  }),
  frames({
    title: "a ping of 126 bytes fails the connection",
    rfc: "RFC 6455 §5.5 (control frames carry at most 125 bytes)",
    script: (w) => w.send({ opcode: OP.PING, payload: ascii(126) }),
    expect: failed(1002),
  }),
  frames({
    title: "a ping of 1000 bytes fails the connection",
    rfc: "RFC 6455 §5.5",
    script: (w) => w.send({ opcode: OP.PING, payload: ascii(1000) }),
    expect: failed(1002),
  }),
  frames({
    title: "a pong of 126 bytes fails the connection",
    rfc: "RFC 6455 §5.5",
    script: (w) => w.send({ opcode: OP.PONG, payload: ascii(126) }),
    expect: failed(1002),
  }),
  frames({
    title: "an unsolicited empty pong is ignored",
    rfc: "RFC 6455 §5.5.3 (a response is not expected)",
    script: (w) => w.send({ opcode: OP.PONG }),
    expect: echoed(),
  }),
  frames({
    title: "an unsolicited pong with 125 bytes is ignored",
    rfc: "RFC 6455 §5.5.3",
    script: (w) => w.send({ opcode: OP.PONG, payload: ascii(125) }),
    expect: echoed(),
  }),
  frames({
    title: "an unsolicited pong, then a ping: only the ping is answered",
    rfc: "RFC 6455 §5.5.3",
    script(w) {
      w.send({ opcode: OP.PONG, payload: "unsolicited" });
      w.send({ opcode: OP.PING, payload: "solicited" });
    },
    expect: echoed(pong("solicited")),
  }),
  frames({
    title: "10 pings in one write get 10 pongs in order",
    rfc: "RFC 6455 §5.5.3",
    script: (w) =>
      w.write(
        Buffer.concat(
          Array.from({ length: 10 }, (_, i) => encodeFrame({ opcode: OP.PING, payload: `p${i}` })),
        ),
      ),
    expect: echoed(...Array.from({ length: 10 }, (_, i) => pong(`p${i}`))),
    variants: [{
      trace: echoed(pong("p9")),
      note: "answers only the most recent of pings not yet answered (RFC 6455 §5.5.3 MAY)",
    }],
  }),
  frames({
    title: "a ping written one byte at a time",
    rfc: "RFC 6455 §5.2, §5.5.2",
    script: (w) => w.chop(encodeFrame({ opcode: OP.PING, payload: "chopped ping" }), 1),
    expect: echoed(pong("chopped ping")),
  }),
  frames({
    title: "text, ping, text: the pong comes between the echoes",
    rfc: "RFC 6455 §5.5.2, §6.1",
    script(w) {
      w.send({ opcode: OP.TEXT, payload: "before" });
      w.send({ opcode: OP.PING, payload: "between" });
      w.send({ opcode: OP.TEXT, payload: "after" });
    },
    expect: echoed(text("before"), pong("between"), text("after")),
  }),
  frames({
    title: "a fragmented ping (FIN clear) fails the connection",
    rfc: "RFC 6455 §5.5 (control frames MUST NOT be fragmented)",
    script(w) {
      w.send({ opcode: OP.PING, fin: false, payload: "frag" });
      w.send({ opcode: OP.CONT, payload: "ment" });
    },
    expect: failed(1002),
  }),
  frames({
    title: "a fragmented pong (FIN clear) fails the connection",
    rfc: "RFC 6455 §5.5",
    script(w) {
      w.send({ opcode: OP.PONG, fin: false, payload: "frag" });
      w.send({ opcode: OP.CONT, payload: "ment" });
    },
    expect: failed(1002),
  }),
  frames({
    title: "100 pings with 100 byte payloads are each answered",
    rfc: "RFC 6455 §5.5.3",
    script: (w) =>
      w.write(
        Buffer.concat(
          Array.from({ length: 100 }, (_, i) => encodeFrame({ opcode: OP.PING, payload: bytes(100, i) })),
        ),
      ),
    expect: echoed(...Array.from({ length: 100 }, (_, i) => pong(bytes(100, i)))),
  }),
);

/** The pings group. */
export const PINGS = group("pings", specs);
