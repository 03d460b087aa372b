#!/usr/bin/env bash
# Installs the Debian packages the test suite drives (listed in scripts/apt-packages.txt, one per
# line) when any is missing. Runs before `npm test`, so a fresh machine needs no manual step.
# Fails loudly when it cannot install: a missing client must never turn into a skipped test.
# Without apt (macOS, another Linux), it installs nothing: it names the tools that are missing, on one
# line, and exits 1.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" == "${BASH_SOURCE[0]}" ]] && here=.
list="$here/apt-packages.txt"

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
  # What each package gives the tests, as they look for it.
  missing=()
  have() { command -v "$1" >/dev/null 2>&1; }
  [[ -x /usr/bin/chromium ]] || missing+=("chromium (/usr/bin/chromium)")
  have openssl || missing+=(openssl)
  { [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import websockets' 2>/dev/null; } ||
    missing+=("Python's websockets (for /usr/bin/python3)")
  have nginx || missing+=(nginx)
  have podman || missing+=(podman)
  have buildah || missing+=(buildah)
  have runc || missing+=(runc)
  have readelf || missing+=("readelf (binutils)")
  [[ -f /usr/aarch64-linux-gnu/lib/libc.so.6 ]] || missing+=("the arm64 C library (/usr/aarch64-linux-gnu)")
  have qemu-aarch64-static || missing+=(qemu-aarch64-static)
  have redis-server || missing+=(redis-server)
  [[ ${#missing[@]} -eq 0 ]] && exit 0
  joined="$(printf '%s, ' "${missing[@]}")"
  echo "system-deps: no apt-get here, and the tests need: ${joined%, }. On Debian or Ubuntu npm test installs them itself (scripts/apt-packages.txt); elsewhere install them with your package manager, or run npm test in a Debian container or VM." >&2
  exit 1
fi

missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < "$list"
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "system-deps: installing ${missing[*]}" >&2
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Other jobs on the machine may hold the dpkg lock; wait for it rather than fail.
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
