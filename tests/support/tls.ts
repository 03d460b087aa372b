/**
 * A self-signed certificate for servers started with TLS, made by openssl (scripts/apt-packages.txt)
 * in a fresh temporary directory.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A certificate and key on disk, and how to hand them to Echo. */
export interface TestCertificate {
  /** The temporary directory holding `cert.pem` and `key.pem`. */
  dir: string;
  /** The server environment naming the two files. */
  env: { TLS_CERT_FILE: string; TLS_KEY_FILE: string };
  /** Deletes the directory. */
  remove(): void;
}

/** Makes a P-256 certificate for `localhost` and 127.0.0.1, valid for a day, in a new directory. */
export function selfSignedCertificate(prefix: string): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = { TLS_CERT_FILE: join(dir, "cert.pem"), TLS_KEY_FILE: join(dir, "key.pem") };
  execFileSync("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    // Deno's TLS (rustls) refuses a certificate marked as an authority as the server's own.
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-keyout",
    env.TLS_KEY_FILE,
    "-out",
    env.TLS_CERT_FILE,
  ], { stdio: "ignore" });
  return { dir, env, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
