/**
 * Where Echo's log lines go on Deno: straight to stdout as bytes.
 *
 * @module
 */

/**
 * A writer of log lines to stdout. `console.log` formats its argument first, which cost a share of the
 * handshake rate at `LOG_LEVEL=info` (docs/benchmarks.md, "Log lines"). Deno Deploy collects console
 * output, so there (`DENO_DEPLOYMENT_ID` is set) lines go through `console.log`. A stdout that fails (a
 * closed pipe) loses the lines, not the server.
 *
 * The text is encoded into one buffer kept for the process: `encode(text + "\n")` copied each batch of
 * lines twice, a joined string and its bytes.
 */
export function stdoutLines(): (text: string) => void {
  if (Deno.env.get("DENO_DEPLOYMENT_ID")) return console.log;
  const encoder = new TextEncoder();
  const buffer = new Uint8Array(STDOUT_BUFFER_BYTES);
  return (text) => {
    try {
      for (let rest = text;;) {
        const { read, written } = encoder.encodeInto(rest, buffer);
        if (read === rest.length && written < buffer.length) {
          buffer[written] = NEWLINE;
          writeAll(buffer.subarray(0, written + 1));
          return;
        }
        if (!writeAll(buffer.subarray(0, written))) return;
        rest = rest.slice(read);
      }
    } catch {
      // Nowhere to report it: stderr is most likely gone too.
    }
  };
}

/** A batch of log lines fits; a longer text is written in several parts. */
const STDOUT_BUFFER_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** Writes all of `bytes` to stdout; false if stdout takes nothing, which would make this spin. */
function writeAll(bytes: Uint8Array): boolean {
  while (bytes.length > 0) {
    const written = Deno.stdout.writeSync(bytes);
    if (written === 0) return false;
    bytes = bytes.subarray(written);
  }
  return true;
}
