/**
 * What a conformance case is, and the builders the case lists use. A case runs against a port
 * and returns a trace; it passes when the trace is one the RFC requires, is non-strict when it
 * is one the RFC permits with a note saying how, and fails otherwise.
 *
 * @module
 */
import { OP } from "../support/raw.ts";
import { CLIENT_CLOSE, closeEvent, describe, type OpenOptions, type Trace, Wire } from "./wire.ts";

/** A permitted variant of the strict behaviour. */
export interface Variant {
  trace: Trace;
  /** Why this is allowed (cites the RFC). */
  note: string;
}

/** One conformance case. */
export interface Case {
  /** `group.N`, numbered in list order. */
  id: string;
  group: string;
  title: string;
  /** The RFC section the case checks, e.g. `RFC 6455 §5.5.2`. */
  rfc: string;
  /** Traces that conform strictly (usually one). */
  expect: Trace[];
  variants: Variant[];
  run(port: number): Promise<Trace>;
}

/** A case before its group numbers it. */
export type CaseSpec = Omit<Case, "id" | "group">;

/** Numbers a group's cases. */
export function group(name: string, specs: CaseSpec[]): Case[] {
  return specs.map((spec, i) => ({ ...spec, id: `${name}.${i + 1}`, group: name }));
}

const encoder = new TextEncoder();

/** Trace event of a text echo. */
export const text = (value: string | Uint8Array): string =>
  describe("text", typeof value === "string" ? encoder.encode(value) : value);
/** Trace event of a binary echo. */
export const binary = (value: Uint8Array | string): string =>
  describe("binary", typeof value === "string" ? encoder.encode(value) : value);
/** Trace event of a pong. */
export const pong = (value: Uint8Array | string = new Uint8Array()): string =>
  describe("pong", typeof value === "string" ? encoder.encode(value) : value);
/** The events of a case that ends by the harness closing normally after `events`. */
export const echoed = (...events: string[]): Trace => [...events, CLIENT_CLOSE, closeEvent(1000), "eof"];
/** The events of a case in which the server fails the connection with `code` after `events`. */
export const failed = (code: number, ...events: string[]): Trace => [
  ...events,
  closeEvent(code, { first: true }),
  "eof",
];

/** The note for a connection failed by closing TCP without a close frame. */
export const DROPPED =
  "fails the connection by closing TCP without sending a close frame (RFC 6455 §7.1.7: SHOULD send one)";

/** For each trace in which the server fails the connection, the same trace without its close frame. */
function dropVariants(variants: Variant[]): Variant[] {
  const failing = (e: string) => /^(then: )?failed\b/.test(e);
  return variants.filter((v) => v.trace.some(failing)).map((v) => ({
    trace: v.trace.filter((e) => !failing(e)),
    note: v.note ? `${v.note}; ${DROPPED}` : DROPPED,
  }));
}

/** The events of a case in which the client sent the close frame itself. */
export const closedBy = (code: number | undefined, ...events: string[]): Trace => [
  ...events,
  closeEvent(code),
  "eof",
];

/** A frame-level case: open (optionally with an extension offer), run a script, compare traces. */
export function frames(spec: {
  title: string;
  rfc: string;
  script: (wire: Wire) => void | Promise<void>;
  expect: Trace | Trace[];
  variants?: Variant[];
  open?: OpenOptions;
  /** How long to wait for the expected echoes (large messages need longer). */
  timeoutMs?: number;
  /** Further events after this connection ended, e.g. a fresh connection still echoing. */
  then?: (port: number) => Promise<Trace>;
}): CaseSpec {
  const expect = Array.isArray(spec.expect[0]) ? spec.expect as Trace[] : [spec.expect as Trace];
  const strict = expect[0];
  const stop = strict.findIndex((e) => e === CLIENT_CLOSE || /^(close|failed)\b/.test(e) || e === "eof");
  const expected = strict.slice(0, stop < 0 ? strict.length : stop).filter((e) => !e.startsWith("mark "))
    .length;
  return {
    title: spec.title,
    rfc: spec.rfc,
    expect,
    variants: [
      ...spec.variants ?? [],
      ...dropVariants([...expect.map((trace) => ({ trace, note: "" })), ...spec.variants ?? []]),
    ],
    async run(port) {
      const { wire, failure } = await Wire.open(port, spec.open);
      if (!wire) return [failure!];
      await spec.script(wire);
      const trace = await wire.finish({
        expected,
        serverCloses: !strict.includes(CLIENT_CLOSE),
        timeoutMs: spec.timeoutMs ?? 10_000,
      });
      return spec.then ? [...trace, ...await spec.then(port)] : trace;
    },
  };
}

/** A fresh connection that echoes one text message: proof the server still serves. */
export async function stillEchoes(port: number): Promise<Trace> {
  const { wire, failure } = await Wire.open(port);
  if (!wire) return [`then: ${failure}`];
  wire.send({ opcode: OP.TEXT, payload: "still alive" });
  const trace = await wire.finish({ expected: 1, serverCloses: false, timeoutMs: 5_000 });
  return trace.map((e) => `then: ${e}`);
}

/** The trace {@link stillEchoes} gives when the server is well. */
export const STILL_ECHOES: Trace = echoed(text("still alive")).map((e) => `then: ${e}`);

/** Deterministic bytes (a linear congruential sequence), so digests are stable across runs. */
export function bytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Deterministic ASCII text of `length` bytes. */
export function ascii(length: number): string {
  const line = "The quick brown fox jumps over the lazy dog 0123456789. ";
  return line.repeat(Math.ceil(length / line.length)).slice(0, length);
}

/** Bytes from a hex string with optional spaces. */
export function hexBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  return new Uint8Array(clean.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
}
