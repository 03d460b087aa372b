/**
 * Every conformance case, in the order the table lists the groups.
 *
 * @module
 */
import type { Case } from "./case.ts";
import { CLOSE } from "./cases/close.ts";
import { DEFLATE } from "./cases/deflate.ts";
import { FRAGMENTATION } from "./cases/fragmentation.ts";
import { FRAMING } from "./cases/framing.ts";
import { HANDSHAKE } from "./cases/handshake.ts";
import { LIMITS } from "./cases/limits.ts";
import { PINGS } from "./cases/pings.ts";
import { OPCODES, RESERVED_BITS } from "./cases/reserved.ts";
import { UTF8 } from "./cases/utf8.ts";

/** The whole suite. */
export const CASES: readonly Case[] = [
  ...HANDSHAKE,
  ...FRAMING,
  ...PINGS,
  ...RESERVED_BITS,
  ...OPCODES,
  ...FRAGMENTATION,
  ...UTF8,
  ...CLOSE,
  ...LIMITS,
  ...DEFLATE,
];
