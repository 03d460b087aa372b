/**
 * Fragmentation (RFC 6455 §5.4): messages in several frames, control frames between them, and
 * continuations that do not continue anything.
 *
 * @module
 */
import { setTimeout as sleep } from "node:timers/promises";
import { encodeFrame, OP } from "../../support/raw.ts";
import {
  binary,
  bytes,
  type CaseSpec,
  closedBy,
  echoed,
  failed,
  frames,
  group,
  pong,
  text,
} from "../case.ts";

const specs: CaseSpec[] = [
  frames({
    title: "text in two fragments",
    rfc: "RFC 6455 §5.4",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: "frag" });
      w.send({ opcode: OP.CONT, payload: "mented" });
    },
    expect: echoed(text("fragmented")),
  }),
  frames({
    title: "binary in two fragments",
    rfc: "RFC 6455 §5.4",
    script(w) {
      w.send({ opcode: OP.BINARY, fin: false, payload: bytes(10, 1) });
      w.send({ opcode: OP.CONT, payload: bytes(10, 2) });
    },
    expect: echoed(binary(Buffer.concat([bytes(10, 1), bytes(10, 2)]))),
  }),
  frames({
    title: "text in 100 fragments of one byte",
    rfc: "RFC 6455 §5.4",
    script: (w) => w.message(OP.TEXT, "x".repeat(100), { fragments: 100 }),
    expect: echoed(text("x".repeat(100))),
  }),
  frames({
    title: "binary in 1000 fragments",
    rfc: "RFC 6455 §5.4",
    script: (w) => w.message(OP.BINARY, bytes(10_000, 3), { fragments: 1000 }),
    expect: echoed(binary(bytes(10_000, 3))),
  }),
  frames({
    title: "a text message of three empty fragments",
    rfc: "RFC 6455 §5.4",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false });
      w.send({ opcode: OP.CONT, fin: false });
      w.send({ opcode: OP.CONT });
    },
    expect: echoed(text("")),
  }),
  frames({
    title: "an empty first fragment, then data",
    rfc: "RFC 6455 §5.4",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false });
      w.send({ opcode: OP.CONT, payload: "data" });
    },
    expect: echoed(text("data")),
  }),
  frames({
    title: "data, then an empty final fragment",
    rfc: "RFC 6455 §5.4",
    script(w) {
      w.send({ opcode: OP.BINARY, fin: false, payload: "data" });
      w.send({ opcode: OP.CONT, fin: false });
      w.send({ opcode: OP.CONT });
    },
    expect: echoed(binary("data")),
  }),
  frames({
    title: "a ping between fragments is answered before the message completes",
    rfc: "RFC 6455 §5.4 (control frames MAY be injected in the middle of a fragmented message)",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: "frag" });
      w.send({ opcode: OP.PING, payload: "middle" });
      w.send({ opcode: OP.CONT, payload: "mented" });
    },
    expect: echoed(pong("middle"), text("fragmented")),
  }),
  frames({
    title: "a ping between each of ten fragments",
    rfc: "RFC 6455 §5.4",
    script(w) {
      for (let i = 0; i < 10; i++) {
        w.send({ opcode: i === 0 ? OP.TEXT : OP.CONT, fin: i === 9, payload: `${i}` });
        if (i < 9) w.send({ opcode: OP.PING, payload: `p${i}` });
      }
    },
    expect: echoed(...Array.from({ length: 9 }, (_, i) => pong(`p${i}`)), text("0123456789")),
  }),
  frames({
    title: "a pong between fragments is ignored",
    rfc: "RFC 6455 §5.4, §5.5.3",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: "frag" });
      w.send({ opcode: OP.PONG, payload: "unsolicited" });
      w.send({ opcode: OP.CONT, payload: "mented" });
    },
    expect: echoed(text("fragmented")),
  }),
  frames({
    title: "fragments with a ping, all written one byte at a time",
    rfc: "RFC 6455 §5.4",
    script: (w) =>
      w.chop(
        Buffer.concat([
          encodeFrame({ opcode: OP.TEXT, fin: false, payload: "frag" }),
          encodeFrame({ opcode: OP.PING, payload: "chopped" }),
          encodeFrame({ opcode: OP.CONT, payload: "mented" }),
        ]),
        1,
      ),
    expect: echoed(pong("chopped"), text("fragmented")),
  }),
  frames({
    title: "fragments sent 100 ms apart",
    rfc: "RFC 6455 §5.4",
    async script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: "slow " });
      await sleep(100);
      w.send({ opcode: OP.CONT, fin: false, payload: "but " });
      await sleep(100);
      w.send({ opcode: OP.CONT, payload: "whole" });
    },
    expect: echoed(text("slow but whole")),
  }),
  frames({
    title: "two fragmented messages back to back",
    rfc: "RFC 6455 §5.4",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: "one-" });
      w.send({ opcode: OP.CONT, payload: "a" });
      w.send({ opcode: OP.BINARY, fin: false, payload: "two-" });
      w.send({ opcode: OP.CONT, payload: "b" });
    },
    expect: echoed(text("one-a"), binary("two-b")),
  }),
  frames({
    title: "a lone final continuation frame fails the connection",
    rfc: "RFC 6455 §5.4 (a continuation must continue a message)",
    script: (w) => w.send({ opcode: OP.CONT, payload: "orphan" }),
    expect: failed(1002),
  }),
  frames({
    title: "a lone non-final continuation frame fails the connection",
    rfc: "RFC 6455 §5.4",
    script: (w) => w.send({ opcode: OP.CONT, fin: false, payload: "orphan" }),
    expect: failed(1002),
  }),
  frames({
    title: "a continuation after a complete message fails the connection",
    rfc: "RFC 6455 §5.4",
    script(w) {
      w.send({ opcode: OP.TEXT, payload: "complete" });
      w.send({ opcode: OP.CONT, payload: "orphan" });
    },
    expect: failed(1002, text("complete")),
  }),
  frames({
    title: "a new text frame in the middle of a fragmented text message fails the connection",
    rfc: "RFC 6455 §5.4 (fragments of one message MUST NOT be interleaved)",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: "frag" });
      w.send({ opcode: OP.TEXT, payload: "intruder" });
    },
    expect: failed(1002),
  }),
  frames({
    title: "a binary frame in the middle of a fragmented text message fails the connection",
    rfc: "RFC 6455 §5.4",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: "frag" });
      w.send({ opcode: OP.BINARY, fin: false, payload: "intruder" });
      w.send({ opcode: OP.CONT, payload: "end" });
    },
    expect: failed(1002),
  }),
  frames({
    title: "a text frame in the middle of a fragmented binary message fails the connection",
    rfc: "RFC 6455 §5.4",
    script(w) {
      w.send({ opcode: OP.BINARY, fin: false, payload: "frag" });
      w.send({ opcode: OP.TEXT, payload: "intruder" });
    },
    expect: failed(1002),
  }),
  frames({
    title: "a fragmented close frame (FIN clear) fails the connection",
    rfc: "RFC 6455 §5.5",
    script: (w) => w.send({ opcode: OP.CLOSE, fin: false, payload: new Uint8Array([3, 232]) }),
    expect: failed(1002),
  }),
  frames({
    title: "a ping with FIN clear between fragments fails the connection",
    rfc: "RFC 6455 §5.5",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: "frag" });
      w.send({ opcode: OP.PING, fin: false, payload: "bad" });
      w.send({ opcode: OP.CONT, payload: "ment" });
    },
    expect: failed(1002),
  }),
  frames({
    title: "a close between fragments ends the connection; the partial message is not echoed",
    rfc: "RFC 6455 §5.4, §5.5.1",
    script(w) {
      w.send({ opcode: OP.TEXT, fin: false, payload: "never " });
      w.send({ opcode: OP.CLOSE, payload: new Uint8Array([3, 232]) });
    },
    expect: closedBy(1000),
  }),
];

/** The fragmentation group. */
export const FRAGMENTATION = group("fragmentation", specs);
