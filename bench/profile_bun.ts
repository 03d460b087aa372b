/**
 * Where Echo on Bun spends its JavaScript time under the 32-byte text load or the handshake load:
 * `bun run bench/profile_bun.ts [--workload text|handshakes] [--deflate]`. Starts `bun --cpu-prof bun/server.ts`,
 * drives it with the bench's load generator, stops it with SIGTERM (Echo exits through
 * `process.exit`, which is when Bun writes the profile) and prints the report of
 * `bench/profile_report.ts`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../tests/support/server.ts";
import { type CpuProfile, profileEcho, SAMPLING_MICROSECONDS } from "./profile_report.ts";

const dir = mkdtempSync(join(tmpdir(), "echo-profile-"));

await profileEcho({
  command: [
    `${ROOT}node_modules/.bin/bun`,
    "--cpu-prof",
    `--cpu-prof-interval=${SAMPLING_MICROSECONDS}`,
    `--cpu-prof-dir=${dir}`,
    "run",
    "bun/server.ts",
  ],
  // Bun samples from the start.
  start: async () => {},
  async finish(echo) {
    const exited = new Promise((resolve) => echo.process.once("exit", resolve));
    echo.process.kill("SIGTERM");
    await exited;
    const profile = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]), "utf8")) as CpuProfile;
    rmSync(dir, { recursive: true });
    return profile;
  },
}, process.argv.slice(2));
