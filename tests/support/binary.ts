/**
 * The single executable `npm run build` makes of the Bun entry, as an {@link Entry} the handshake, echo
 * and knob tests run against beside the two entries. Built at most once per test process, and only
 * when its sources changed since the last build (a hash kept beside it), so a test run pays ~0.5 s.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { arch } from "node:process";
import { ENTRIES, type Entry, ROOT } from "./server.ts";

/** The build target of this machine, as scripts/build.sh names it. */
export const HOST_TARGET = `linux-${arch === "arm64" ? "arm64" : "x64"}`;

/** Where the host's executable is written. */
export const BINARY = `${ROOT}dist/echo-ws-${HOST_TARGET}`;

let built = false;

/** Builds the host's executable unless one built from the same sources is there; returns its path. */
export function ensureBinary(): string {
  if (built) return BINARY;
  const stamp = `${BINARY}.sources`;
  const hash = sourcesHash();
  if (!existsSync(BINARY) || !existsSync(stamp) || readFileSync(stamp, "utf8") !== hash) {
    execFileSync("bash", [`${ROOT}scripts/build.sh`, HOST_TARGET], { cwd: ROOT, stdio: "ignore" });
    writeFileSync(stamp, hash);
  }
  built = true;
  return BINARY;
}

/** What goes into the executable: the Bun entries, lib/ with its folders, the build script and the Bun version. */
function sourcesHash(): string {
  const hash = createHash("sha256");
  const files = [
    ...readdirSync(`${ROOT}bun`).map((name) => `bun/${name}`),
    ...readdirSync(`${ROOT}lib`, { recursive: true, encoding: "utf8" }).map((name) => `lib/${name}`),
    "scripts/build.sh",
    "node_modules/bun/package.json",
  ].filter((file) => file.endsWith(".ts") || file.endsWith(".sh") || file.endsWith(".json")).sort();
  for (const file of files) {
    hash.update(file).update("\0").update(readFileSync(`${ROOT}${file}`)).update("\0");
  }
  return hash.digest("hex");
}

/** An entry as the tests run it, with the runtime it runs on (what runtime-specific checks ask). */
export type RuntimeEntry = Entry & { runtime: "deno" | "bun" };

/** The single executable, started with no script: it is a Bun program. */
export const BINARY_ENTRY: RuntimeEntry = {
  name: "echo-ws-binary",
  runtime: "bun",
  command: () => [ensureBinary()],
};

/** Echo's two entries and the single executable. */
export const ENTRIES_AND_BINARY: readonly RuntimeEntry[] = [
  ...ENTRIES.map((entry) => ({ ...entry, runtime: entry.name })),
  BINARY_ENTRY,
];
