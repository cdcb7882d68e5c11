#!/usr/bin/env bash
# Builds generated-sdks/nodejs (Pulumi's generated Node.js SDK, `make generate-sdks`) into
# <out>/native-sdk, which package.json exports as pulumi-mcp-tunnels/native. The generator leaves
# the version as ${VERSION} for a release to fill in; the SDK sends it to the engine as the
# plugin version, so it is this package's version, as Pulumi's own release builds stamp it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/dist}/native-sdk"
rm -rf "$OUT"
npx tsc -p "$ROOT/generated-sdks/nodejs/tsconfig.json" --outDir "$OUT" --sourceMap false --declarationMap false
VERSION="$(node -p 'require(process.argv[1]).version' "$ROOT/package.json")"
sed "s/\${VERSION}/$VERSION/" "$ROOT/generated-sdks/nodejs/package.json" > "$OUT/package.json"
