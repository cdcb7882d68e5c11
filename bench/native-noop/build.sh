#!/usr/bin/env bash
# Builds pulumi-resource-benchnoop once per source version into the per-user cache and prints the
# directory that holds it (for PATH). Exit 3 when Go is missing: the bench then skips the native floor.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-mcp-tunnels"
command -v go >/dev/null || { echo "go is not installed" >&2; exit 3; }

hash="$(cat "$here/main.go" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)"
version="0.1.0-src$hash"
target="$cache/benchnoop-$version"
if [[ ! -x "$target/pulumi-resource-benchnoop" ]]; then
  echo "building pulumi-resource-benchnoop $version (first time only; about a minute)..." >&2
  mkdir -p "$target"
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=$version" -o "$target/pulumi-resource-benchnoop.partial" .)
  mv "$target/pulumi-resource-benchnoop.partial" "$target/pulumi-resource-benchnoop"
fi
echo "$target"
