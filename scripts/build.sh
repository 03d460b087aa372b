#!/usr/bin/env bash
# `npm run build`: single executables of the Bun entry, dist/echo-ws-linux-x64 and dist/echo-ws-linux-arm64
# (`bun build --compile`). The worker thread's script, bun/worker.ts, goes in as an extra
# entrypoint, which is how a compiled program finds the files it starts as workers (Bun docs,
# "Single-file executable", Worker). The arm64 runtime is fetched from npm on first use, then cached.
# Arguments pick targets: `scripts/build.sh linux-x64` builds the host's one only (the tests do).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(linux-x64 linux-arm64)
entries=(bun/server.ts bun/worker.ts)
mkdir -p dist
for target in "${targets[@]}"; do
  node_modules/.bin/bun build --compile --target="bun-$target" "${entries[@]}" --outfile "dist/echo-ws-$target" >/dev/null
  echo "dist/echo-ws-$target"
done
