import { execFileSync } from "node:child_process";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { TestEmulator } from "../harness/emulator";
import { makeTempDir, REPO_ROOT } from "../harness/engine";
import { expectEmptyPlan } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
let pluginDir: string;
beforeAll(async () => {
  emulator = await TestEmulator.start();
  pluginDir = makeTempDir("mcp-tunnels-plugin");
  execFileSync("bash", [path.join(REPO_ROOT, "scripts", "install-native-provider.sh"), pluginDir], { encoding: "utf8" });
});
afterAll(() => emulator?.close());

class NativeResource extends pulumi.CustomResource {}
class McpTunnelsProvider extends pulumi.ProviderResource {}

const WORKSPACES = ["wrkspc_platform", "wrkspc_sandbox"] as const;

async function tunnelIdsIn(workspaceId: string): Promise<string[]> {
  return (await emulator.api<{ data: { id: string }[] }>("GET", "/v1/tunnels?limit=100", undefined, workspaceId)).data.map((t) => t.id);
}

describe("two workspaces in one program through explicit provider instances of the native plugin", () => {
  it("creates each tunnel in its provider's workspace with that provider's own credentials, keeps identityToken secret in state, and destroys both", async () => {
    // The fixture's service account is a member of wrkspc_platform only; sandbox is granted here.
    await emulator.adminApi("POST", "/v1/organizations/workspaces/wrkspc_sandbox/service_accounts", { service_account_id: EMULATOR_FIXTURE.tunnelsServiceAccountId, workspace_role: "workspace_developer" });
    // The engine gets no credentials of its own: each provider instance carries its workspace's.
    const credentials = Object.fromEntries(await Promise.all(WORKSPACES.map(async (ws) => [ws, await emulator.engineEnv(ws)] as const)));
    const { stack, stateAtRest } = await createHermeticStack({
      pluginDirs: [pluginDir],
      program: async () => {
        const outputs: Record<string, pulumi.Output<unknown>> = {};
        for (const ws of WORKSPACES) {
          const env = credentials[ws]!;
          const provider = new McpTunnelsProvider("mcp-tunnels", ws, {
            baseUrl: env.ANTHROPIC_BASE_URL,
            organizationId: env.ANTHROPIC_ORGANIZATION_ID,
            federationRuleId: env.ANTHROPIC_FEDERATION_RULE_ID,
            workspaceId: ws,
            // One passed secret, one plain: the plugin's CheckConfig marks it secret either way.
            identityToken: ws === "wrkspc_platform" ? pulumi.secret(env.ANTHROPIC_IDENTITY_TOKEN) : env.ANTHROPIC_IDENTITY_TOKEN,
          });
          const tunnel = new NativeResource("mcp-tunnels:index:Tunnel", `edge-${ws}`, { displayName: `e2e-${ws}`, tunnelId: undefined }, { provider }) as unknown as { tunnelId: pulumi.Output<string> };
          outputs[ws] = tunnel.tunnelId;
        }
        return outputs;
      },
    });

    const up = await stack.up();
    const platform = up.outputs.wrkspc_platform?.value as string;
    const sandbox = up.outputs.wrkspc_sandbox?.value as string;
    expect(platform).toMatch(/^tnl_/);
    expect(sandbox).toMatch(/^tnl_/);
    expect(await tunnelIdsIn("wrkspc_platform")).toEqual([platform]);
    expect(await tunnelIdsIn("wrkspc_sandbox")).toEqual([sandbox]);
    expect(await tunnelIdsIn("wrkspc_default")).toEqual([]);
    for (const ws of WORKSPACES) expect(stateAtRest()).not.toContain(credentials[ws]!.ANTHROPIC_IDENTITY_TOKEN);
    const state = (await stack.exportStack()).deployment as { resources: { type: string; inputs?: Record<string, unknown> }[] };
    const providers = state.resources.filter((r) => r.type === "pulumi:providers:mcp-tunnels");
    expect(providers).toHaveLength(2);
    for (const p of providers) expect(p.inputs?.identityToken).toHaveProperty([pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig);
    await expectEmptyPlan(stack);

    await stack.destroy();
    for (const ws of WORKSPACES) expect(await tunnelIdsIn(ws)).toEqual([]);
  });
});
