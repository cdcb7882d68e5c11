import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tunnels from "pulumi-mcp-tunnels";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { TestEmulator } from "../harness/emulator";
import { expectEmptyPlan, previewPlan, stepFor } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator?.close());

const SERVICE_ACCOUNT = EMULATOR_FIXTURE.tunnelsServiceAccountId;

function bindingProgram(settings: { ruleId: string; workspaceId: string; role?: "workspace_developer" | "workspace_admin" }) {
  return async () => {
    const binding = new tunnels.FederationRuleBinding("wif", {
      federationRuleId: settings.ruleId,
      workspaceId: settings.workspaceId,
      ...(settings.role ? { workspaceRole: settings.role } : {}),
    });
    return {
      membershipCreated: binding.membershipCreated,
      serviceAccountId: binding.serviceAccountId,
      organizationId: binding.organizationId,
      audience: binding.audience,
      subjectPrefix: binding.subjectPrefix,
    };
  };
}

describe("FederationRuleBinding on the real engine", () => {
  it("adds the rule's service account to a workspace it is not in, and removes only that membership on destroy", async () => {
    expect(await emulator.workspaceMembers("wrkspc_sandbox")).not.toContain(SERVICE_ACCOUNT);
    const settings: Parameters<typeof bindingProgram>[0] = { ruleId: EMULATOR_FIXTURE.tunnelsRuleId, workspaceId: "wrkspc_sandbox" };
    const { stack } = await createHermeticStack({ env: await emulator.engineEnv(), program: bindingProgram(settings) });
    const up = await stack.up();
    expect(up.outputs).toMatchObject({
      membershipCreated: { value: true },
      serviceAccountId: { value: SERVICE_ACCOUNT },
      organizationId: { value: EMULATOR_FIXTURE.organizationId },
      audience: { value: "api.anthropic.com" },
      subjectPrefix: { value: EMULATOR_FIXTURE.tunnelsSubjectPrefix },
    });
    expect(await emulator.workspaceMembers("wrkspc_sandbox")).toContain(SERVICE_ACCOUNT);
    await expectEmptyPlan(stack);
    await stack.refresh();
    await expectEmptyPlan(stack);

    settings.role = "workspace_admin";
    expect(stepFor(await previewPlan(stack), "wif")).toMatchObject({ op: "update", changedInputs: ["workspaceRole"] });
    await stack.up();

    await stack.destroy();
    expect(await emulator.workspaceMembers("wrkspc_sandbox")).not.toContain(SERVICE_ACCOUNT);
  });

  it("leaves a membership it did not create in place", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: bindingProgram({ ruleId: EMULATOR_FIXTURE.tunnelsRuleId, workspaceId: "wrkspc_platform" }),
    });
    const up = await stack.up();
    expect(up.outputs.membershipCreated?.value).toBe(false);
    await stack.destroy();
    expect(await emulator.workspaceMembers("wrkspc_platform")).toContain(SERVICE_ACCOUNT);
  });

  it("refuses at preview a rule that cannot manage tunnels, naming the scope and the fix", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: bindingProgram({ ruleId: EMULATOR_FIXTURE.adminRuleId, workspaceId: "wrkspc_platform" }),
    });
    await emulator.control("DELETE", "/_emulator/requests");
    await expect(previewPlan(stack)).rejects.toThrow(/has scope "org:admin", not workspace:manage_tunnels: create a rule with scope workspace:manage_tunnels/);
    expect(await emulator.mutatingRequests()).toEqual([]);
  });

  it("drops a membership removed out of band on refresh, so the next up binds again", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: bindingProgram({ ruleId: EMULATOR_FIXTURE.tunnelsRuleId, workspaceId: "wrkspc_sandbox" }),
    });
    await stack.up();
    await emulator.adminApi("DELETE", `/v1/organizations/workspaces/wrkspc_sandbox/service_accounts/${SERVICE_ACCOUNT}`);
    await stack.refresh();
    expect(stepFor(await previewPlan(stack), "wif").op).toBe("create");
    await stack.up();
    expect(await emulator.workspaceMembers("wrkspc_sandbox")).toContain(SERVICE_ACCOUNT);
    await stack.destroy();
  });
});
