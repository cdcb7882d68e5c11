import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tunnels from "pulumi-mcp-tunnels";
import { TestEmulator } from "../harness/emulator";
import { REPO_ROOT } from "../harness/engine";
import { previewJson } from "../harness/plan";
import { Sink } from "../harness/sink";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator?.close());

const CLI = path.join(REPO_ROOT, "dist/sdk/cli/mcp-tunnels.js");
/** The shipped CLI, fed a real preview on standard input. */
const planOf = (json: string): string => execFileSync(process.execPath, [CLI, "plan"], { input: json, encoding: "utf8" });

describe("mcp-tunnels plan on previews from the real engine", () => {
  it("summarizes creation, token rotation (manual and scheduled), CA overlap and tunnel archive for a pull request", async () => {
    const settings = { displayName: "e2e-plan", caRotation: 1, tokenRotation: "1" };
    const hermetic = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        const deployment = new tunnels.TunnelDeployment("prod", {
          displayName: settings.displayName,
          routes: { mcp: "http://10.0.0.5:8080" },
          ca: { rotation: settings.caRotation },
          token: { rotation: settings.tokenRotation, rotateEveryDays: 30, reason: "routine" },
        });
        new tunnels.FederationRuleBinding("wif", { federationRuleId: "fdrl_tunnels", workspaceId: "wrkspc_sandbox" });
        new Sink("k8s-secret", { data: deployment.kubernetesSecrets, checksum: deployment.secretsChecksum });
      },
    });
    const { stack } = hermetic;

    const creation = planOf(await previewJson(stack));
    expect(creation).toContain("Tunnel **prod-tunnel** will be created (`e2e-plan`)");
    expect(creation).toContain("Bind federation rule `fdrl_tunnels` to workspace `wrkspc_sandbox`");
    await stack.up();

    expect(planOf(await previewJson(stack))).toContain("No changes to tunnels");

    settings.tokenRotation = "2";
    const rotation = planOf(await previewJson(stack));
    expect(rotation).toMatch(/\*\*Token of tunnel `tnl_\w+` rotates\*\* \(prod-token\): `rotation` changed `1` → `2`/);
    expect(rotation).toContain("Audit reason: `routine`");
    // The manual rotation restarts the schedule, so rotateAt moves too; that is no scheduled rotation.
    expect(rotation).not.toContain("scheduled rotation");
    expect(rotation).toMatch(/### Dependents updating\n- k8s-secret \(update\)/);
    settings.tokenRotation = "1";

    hermetic.setProviderClockOffset(31 * 86_400);
    expect(planOf(await previewJson(stack))).toMatch(/scheduled rotation was due at `[^`]+` \(every `30` days\)/);
    hermetic.setProviderClockOffset(0);

    settings.caRotation = 2;
    const overlap = planOf(await previewJson(stack));
    expect(overlap).toMatch(/CA overlap on tunnel `tnl_\w+`\*\* \(prod-ca-registration\)/);
    expect(overlap).toMatch(/1\. register the new CA first[\s\S]*2\. re-issue the server certificate[\s\S]*3\. archive the old registration `tcrt_\w+` last/);
    expect(overlap).toContain("**Server certificate prod-server-certificate renews**: its CA is new");
    settings.caRotation = 1;

    settings.displayName = "e2e-plan-renamed";
    const archive = planOf(await previewJson(stack));
    expect(archive).toContain("> **Warning:** this plan archives 1 tunnel(s). Archiving is irreversible.");
    expect(archive).toMatch(/⚠️ \*\*Tunnel prod-tunnel \(`tnl_\w+`, `[a-z0-9]{8}\.tunnel\.anthropic\.com`\) will be ARCHIVED — irreversible\.\*\*/);

    for (const summary of [creation, rotation, overlap, archive]) expect(summary).not.toMatch(/PRIVATE KEY|mcpt_/);
    await stack.destroy();
  });

  it("refuses input that is not a preview, saying what to pass", () => {
    expect(() => execFileSync(process.execPath, [CLI, "plan"], { input: "not json", encoding: "utf8", stdio: "pipe" })).toThrow(/pass the output of `pulumi preview --json`/);
  });
});
