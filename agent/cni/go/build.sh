#!/bin/sh
# Builds the Go margay-cni (this folder) to dist/bin/margay-cni; `npm run build`
# runs it after tsc. A static binary (CGO_ENABLED=0), standard library only, no
# module downloads (GOPROXY=off). Without a Go toolchain it says so and removes any
# earlier dist/bin/margay-cni, so that nothing runs a plugin older than the agent:
# everything that runs the plugin (agent/cni/plugin-path.ts) then falls back to
# the Node one, dist/agent/cni/margay-cni.js.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out="$repo/dist/bin/margay-cni"
if ! command -v go >/dev/null 2>&1; then
  rm -f "$out"
  echo "build: no Go toolchain (go) on PATH: dist/bin/margay-cni not built; margay-cni falls back to the Node plugin dist/agent/cni/margay-cni.js (a Node start per CNI call, 20-60 ms more). Install golang-go (agent/lab/install-system-deps.sh) for the Go binary." >&2
  exit 0
fi
# A build cache where the user has none (no HOME, or one not writable: CI, containers).
if [ -z "${GOCACHE:-}" ] && { [ -z "${HOME:-}" ] || [ ! -w "${HOME:-/nonexistent}" ]; }; then
  export GOCACHE="$repo/node_modules/.cache/margay-go/build"
  export GOPATH="${GOPATH:-$repo/node_modules/.cache/margay-go/path}"
fi
mkdir -p "$(dirname "$out")"
cd "$here"
GO111MODULE=on GOPROXY=off GOWORK=off GOTOOLCHAIN=local CGO_ENABLED=0 \
  go build -trimpath -ldflags='-s -w' -o "$out.tmp" .
mv -f "$out.tmp" "$out"
echo "build: dist/bin/margay-cni ($(go env GOVERSION), static)" >&2
