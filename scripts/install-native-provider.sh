#!/usr/bin/env bash
# Puts `pulumi-resource-mcp-tunnels` in a directory (default dist/plugins) for the engine to find
# on PATH: a wrapper that runs the built native provider with the node that ran this script's
# install, so the engine needs no node of its own on PATH. Run `make build` first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$ROOT/dist/plugins}"
MAIN="$ROOT/dist/native/provider-main.js"
NODE="$(command -v node)"
[[ -f "$MAIN" ]] || { echo "no $MAIN: run \`make build\` first" >&2; exit 1; }
mkdir -p "$DIR"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$NODE" "$MAIN" > "$DIR/pulumi-resource-mcp-tunnels"
chmod +x "$DIR/pulumi-resource-mcp-tunnels"
echo "$DIR/pulumi-resource-mcp-tunnels"
