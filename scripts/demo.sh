#!/usr/bin/env bash
# make demo / make demo-clean: the quickstart stack against a local Tunnels API emulator.
#   demo.sh run    up, outputs, a preview that must plan nothing, a token rotation previewed only,
#                  then the written Compose project run by the twins and an MCP request answered through it
#   demo.sh clean  destroy the stack (archives the tunnel) with the emulator running, remove .demo/
# Everything persists in .demo/ (emulator state, stack state, token cache), so a second run
# converges on the same tunnel instead of creating another.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
demo="${MCP_TUNNELS_DEMO_DIR:-$root/.demo}"
example=quickstart
cd "$root"

step() { printf '\n== %s\n' "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }
run_example() { node dist/scripts/run-example.js "$example" "$@"; }

emulator_pid=""
stop_emulator() {
  [[ -n "$emulator_pid" ]] || return 0
  kill "$emulator_pid" 2>/dev/null || true
  wait "$emulator_pid" 2>/dev/null || true
  emulator_pid=""
}
trap stop_emulator EXIT

# Port 0: the emulator binds a free port and reports it, so nothing can take it in between.
start_emulator() {
  mkdir -p "$demo"
  # Emptied here, not by the redirect below: that runs in the child, maybe after the first read.
  : >"$demo/emulator.log"
  node dist/emulator/cli.js --port 0 --state "$demo/emulator-state.json" >"$demo/emulator.log" 2>&1 &
  emulator_pid=$!
  for _ in $(seq 100); do
    base_url="$(sed -n 's|^listening on \(http://127\.0\.0\.1:[0-9]*\)$|\1|p' "$demo/emulator.log")"
    if [[ -n "$base_url" ]]; then
      echo "emulator: $base_url (state $demo/emulator-state.json, pid $emulator_pid)"
      return
    fi
    kill -0 "$emulator_pid" 2>/dev/null || { cat "$demo/emulator.log" >&2; emulator_pid=""; fail "the emulator exited before listening"; }
    sleep 0.1
  done
  fail "the emulator did not report 'listening on' within 10 s (log: $demo/emulator.log)"
}

# The WIF identity token from the emulator's built-in issuer, for the subject a Kubernetes
# service account in namespace mcp-tunnel would have. Kept in the environment, never printed.
use_emulator_credentials() {
  local id_token
  id_token="$(node -e '
    const [base] = process.argv.slice(1);
    fetch(`${base}/_emulator/oidc/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "system:serviceaccount:mcp-tunnel:demo", aud: "api.anthropic.com", ttl_seconds: 3600 }),
    })
      .then(async (response) => {
        if (!response.ok) throw new Error(`POST /_emulator/oidc/token answered ${response.status}`);
        process.stdout.write((await response.json()).id_token);
      })
      .catch((error) => { console.error(error.message); process.exit(1); });
  ' "$base_url")" || fail "could not mint an identity token"
  export ANTHROPIC_BASE_URL="$base_url"
  export ANTHROPIC_FEDERATION_RULE_ID=fdrl_tunnels
  export ANTHROPIC_ORGANIZATION_ID=6f1c7a52-0000-4000-8000-00000000e001
  export ANTHROPIC_WORKSPACE_ID=wrkspc_default
  export ANTHROPIC_IDENTITY_TOKEN="$id_token"
  export MCP_TUNNELS_CACHE_DIR="$demo/cache"
  export MCP_TUNNELS_DEMO_DIR="$demo"
  echo "credentials: WIF identity token for system:serviceaccount:mcp-tunnel:demo (rule fdrl_tunnels, workspace wrkspc_default)"
}

# From the emulator's audit log, which persists with its state: proof that re-runs converge.
report_tunnels() {
  node -e '
    const [base] = process.argv.slice(1);
    fetch(`${base}/_emulator/audit`).then((r) => r.json()).then(({ data }) => {
      const count = (action) => data.filter((entry) => entry.action === action).length;
      console.log(`emulator audit log, all runs: ${count("tunnel.create")} tunnel created, ${count("tunnel.archive")} archived, ${count("token.rotate")} token rotations`);
    });
  ' "$base_url"
}

demo_run() {
  step "emulator"
  start_emulator
  use_emulator_credentials

  step "pulumi up: tunnel, CA and its registration, server certificate, token, and the files the proxy reads"
  # The routes point at a local MCP server the last step starts; loopback is allowed for this demo only.
  run_example up --config deployDir="$demo/$example" \
    --config routes='{"mcp":"http://demo-mcp:9000","docs":{"upstream":"http://demo-mcp:9000","mcpPath":"/mcp"}}' \
    --config allowedIps='["127.0.0.0/8"]'

  step "stack outputs"
  run_example outputs

  step "second preview: must plan no change"
  run_example preview --expect-no-changes || fail "the second preview planned changes: the stack does not converge"

  step "token rotation (tokenRotation=2): previewed, not applied"
  local plan="$demo/rotation-preview.txt"
  run_example preview --diff --config tokenRotation=2 | tee "$plan"
  grep -q 'TunnelToken: (update)' "$plan" || fail "the rotation preview did not plan the TunnelToken update"
  echo "planned: the TunnelToken rotates in place; its consumers (the deploy files, tunnel.tokenVersion and secretsChecksum) follow on 'up'"

  step "an MCP request through the twin stack: emulator edge → cloudflared → mcp-proxy → MCP server"
  node dist/scripts/demo-data-path.js --dir "$demo/$example" --emulator "$base_url" \
    --urls "$(run_example outputs --json | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>process.stdout.write(JSON.stringify(JSON.parse(s).mcpServerUrls)))')" \
    || fail "the MCP request did not come back through the tunnel"

  step "convergence"
  report_tunnels
  stop_emulator
  echo "demo: done. Run 'make demo' again to see it converge; 'make demo-clean' archives the tunnel and removes .demo/"
}

demo_clean() {
  if [[ -d "$demo/state" ]]; then
    step "emulator"
    start_emulator
    use_emulator_credentials
    step "pulumi destroy: archives the tunnel"
    run_example destroy
    report_tunnels
    stop_emulator
  fi
  rm -rf "$demo"
  # Written there only when pulumi-language-nodejs runs the example as a project directory.
  rm -f "$root/examples/$example/Pulumi.demo.yaml"
  echo "demo-clean: removed $demo"
}

case "${1:-run}" in
  run) demo_run ;;
  clean) demo_clean ;;
  *) fail "usage: demo.sh [run|clean]" ;;
esac
