#!/usr/bin/env bash
# `npm run image`: builds the container image echo-ws:<version> and echo-ws:latest from Containerfile with
# Podman, pulling nothing: the single executable of each architecture (scripts/build.sh) plus the C
# library files it links against, taken from Debian's packages on this machine (the host's own libc6,
# and libc6-arm64-cross for arm64), laid out in dist/rootfs/<arch>/. Each tag is a manifest list with
# an amd64 and an arm64 image (arm64 left out, with a warning, when its files are missing).
#   scripts/image.sh            both architectures
#   scripts/image.sh amd64      only the one named
# Uses deploy/containers.conf unless CONTAINERS_CONF is set (docs/deploy.md says why).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/deploy/containers.conf}"
field() { node -p "const p = require('./package.json'); String($1)"; }
version="$(field p.version)"
source_url="$(field "p.repository?.url ?? p.repository ?? 'NOASSERTION'")"
licence="$(field "p.license ?? 'NOASSERTION'")"
arches=("$@")
[[ ${#arches[@]} -eq 0 ]] && arches=(amd64 arm64)

# Debian's names for an architecture: bun target, GNU triplet, the loader's path (PT_INTERP).
target_of() { case "$1" in amd64) echo linux-x64 ;; arm64) echo linux-arm64 ;; *) return 1 ;; esac; }
triplet_of() { case "$1" in amd64) echo x86_64-linux-gnu ;; arm64) echo aarch64-linux-gnu ;; esac; }
host_arch="$(dpkg --print-architecture)"

# Where this machine keeps the architecture's libraries: the host's own, or a cross package's.
libdir_of() {
  local triplet; triplet="$(triplet_of "$1")"
  if [[ "$1" == "$host_arch" ]]; then echo "/lib/$triplet"; else echo "/usr/$triplet/lib"; fi
}

stage() {
  local arch="$1" target triplet libdir binary root interp lib
  target="$(target_of "$arch")"; triplet="$(triplet_of "$arch")"; libdir="$(libdir_of "$arch")"
  binary="dist/echo-ws-$target"; root="dist/rootfs/$arch"
  [[ -f "$libdir/libc.so.6" ]] || { echo "image: no $arch C library in $libdir (install libc6-arm64-cross)" >&2; return 1; }
  rm -rf "$root"
  mkdir -p "$root/usr/local/bin" "$root/lib/$triplet" "$root/etc" "$root/tmp"
  chmod 1777 "$root/tmp"
  cp "$binary" "$root/usr/local/bin/echo-ws"
  # Every library the executable names (readelf, not ldd: ldd runs the binary, which a foreign one can't).
  for lib in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    cp -L "$libdir/$lib" "$root/lib/$triplet/$lib"
  done
  interp="$(readelf -l "$binary" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')"
  mkdir -p "$root$(dirname "$interp")"
  cp -L "$libdir/$(basename "$interp")" "$root$interp"
  # The user the image runs as; numeric in the Containerfile, named here for ps and id.
  printf 'root:x:0:0:root:/:/nonexistent\necho:x:10001:10001:echo-ws:/tmp:/nonexistent\n' > "$root/etc/passwd"
  printf 'root:x:0:\necho:x:10001:\n' > "$root/etc/group"
}

staged=()
for arch in "${arches[@]}"; do
  bash scripts/build.sh "$(target_of "$arch")" >/dev/null
  if stage "$arch"; then staged+=("$arch"); else echo "image: skipping $arch" >&2; fi
done
[[ ${#staged[@]} -gt 0 ]] || { echo "image: nothing to build" >&2; exit 1; }

for arch in "${staged[@]}"; do
  podman build --quiet --format docker --platform "linux/$arch" --build-arg "VERSION=$version" \
    --build-arg "SOURCE=$source_url" --build-arg "LICENSE=$licence" \
    -t "localhost/echo-ws:$version-$arch" -f Containerfile . >/dev/null
  echo "localhost/echo-ws:$version-$arch"
done
# The plain tags are this machine's architecture (what `podman run echo-ws:latest` starts here).
own="${staged[0]}"
for arch in "${staged[@]}"; do [[ "$arch" == "$host_arch" ]] && own="$arch"; done
for tag in "$version" latest; do
  podman tag "localhost/echo-ws:$version-$own" "localhost/echo-ws:$tag"
  echo "localhost/echo-ws:$tag ($own)"
done

# Both architectures joined in one manifest list, written as an OCI archive to push from
# (`skopeo copy --all oci-archive:dist/echo-ws-$version.oci.tar docker://REGISTRY/echo-ws:$version`).
# The list is not kept in local storage: with one there, Podman 4.3's `podman images` fails
# ("locating item named manifest-sha256:…", containers/podman#19757).
if [[ ${#staged[@]} -gt 1 ]]; then
  list="localhost/echo-ws:$version-manifest"
  podman manifest rm "$list" >/dev/null 2>&1 || true
  podman manifest create "$list" >/dev/null
  for arch in "${staged[@]}"; do
    podman manifest add "$list" "containers-storage:localhost/echo-ws:$version-$arch" >/dev/null
  done
  rm -f "dist/echo-ws-$version.oci.tar"
  podman manifest push --all --quiet "$list" "oci-archive:dist/echo-ws-$version.oci.tar:$version"
  podman manifest rm "$list" >/dev/null
  echo "dist/echo-ws-$version.oci.tar (manifest list: ${staged[*]})"
fi
