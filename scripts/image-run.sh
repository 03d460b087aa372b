#!/usr/bin/env bash
# `npm run image:run`: the container image on this machine, as the README shows it:
# `podman run --rm -p PORT:8181 echo-ws:latest`, PORT 8181 unless set, flags after `--` to Echo. Uses
# deploy/containers.conf unless CONTAINERS_CONF is set (docs/deploy.md says why). Podman's SIGTERM and
# Ctrl-C reach Echo, which drains; a host port in use is one line and exit 2, as Echo says it itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/deploy/containers.conf}"
port="${PORT:-8181}"
# Podman publishes on every interface; something answering on loopback holds the port.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "echo: PORT: $port is in use on this machine; choose another with PORT=9000 npm run image:run" >&2
  exit 2
fi
exec podman run --rm -p "$port:8181" echo-ws:latest "$@"
