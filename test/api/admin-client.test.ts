import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mintAccessToken, mintAdminToken } from "../support/emulator-credentials";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { AdminClient } from "../../core/api/index";
import { apiFailure, startHarness, type Harness } from "./support";

let harness: Harness;
let admin: AdminClient;

beforeAll(async () => {
  harness = await startHarness();
  admin = await harness.adminClient();
});
afterAll(() => harness.close());
beforeEach(() => harness.control.reset());

describe("AdminClient", () => {
  it("retrieves the fixture's federation rule, camelCased", async () => {
    const rule = await admin.federationRules.retrieve(EMULATOR_FIXTURE.tunnelsRuleId);
    expect(rule).toMatchObject({
      id: EMULATOR_FIXTURE.tunnelsRuleId,
      issuerId: EMULATOR_FIXTURE.issuerId,
      oauthScope: "workspace:manage_tunnels",
      match: { subjectPrefix: EMULATOR_FIXTURE.tunnelsSubjectPrefix, audience: "api.anthropic.com" },
      target: { type: "service_account", serviceAccountId: EMULATOR_FIXTURE.tunnelsServiceAccountId },
    });
    expect(rule.workspaceIds).toEqual(expect.arrayContaining(["wrkspc_platform", "wrkspc_sandbox"]));
  });

  it("retrieves a service account", async () => {
    const account = await admin.serviceAccounts.retrieve(EMULATOR_FIXTURE.tunnelsServiceAccountId);
    expect(account).toMatchObject({ id: EMULATOR_FIXTURE.tunnelsServiceAccountId, name: expect.any(String) });
  });

  it("lists, adds and removes workspace members", async () => {
    const sandbox = "wrkspc_sandbox";
    const account = EMULATOR_FIXTURE.tunnelsServiceAccountId;
    const members = async () => (await admin.workspaceMembers.list(sandbox).toArray()).map((m) => m.serviceAccountId);
    expect(await members()).not.toContain(account);

    const added = await admin.workspaceMembers.add(sandbox, { serviceAccountId: account, workspaceRole: "workspace_developer" });
    expect(added).toEqual({ serviceAccountId: account, workspaceId: sandbox, workspaceRole: "workspace_developer" });
    expect(await members()).toContain(account);
    const changed = await admin.workspaceMembers.add(sandbox, { serviceAccountId: account, workspaceRole: "workspace_admin" });
    expect(changed.workspaceRole).toBe("workspace_admin");

    await admin.workspaceMembers.remove(sandbox, account);
    await admin.workspaceMembers.remove(sandbox, account); // idempotent
    expect(await members()).not.toContain(account);
  });

  it("maps admin failures to codes", async () => {
    expect((await apiFailure(admin.federationRules.retrieve("fdrl_missing"))).code).toBe("TUNNELS_NOT_FOUND");
    const unknownAccount = await apiFailure(admin.workspaceMembers.add("wrkspc_sandbox", { serviceAccountId: "svac_nobody", workspaceRole: "workspace_user" }));
    expect(unknownAccount).toMatchObject({ code: "INVALID_REQUEST", status: 400 });
    const badRole = await apiFailure(admin.workspaceMembers.add("wrkspc_sandbox", { serviceAccountId: "svac_x", workspaceRole: "owner" as never }));
    expect(badRole.code).toBe("INVALID_REQUEST");
  });

  it("works with a ready bearer in ANTHROPIC_ADMIN_AUTH_TOKEN", async () => {
    const bearer = new AdminClient({ baseUrl: harness.emulator.baseUrl, env: { ANTHROPIC_ADMIN_AUTH_TOKEN: await mintAdminToken(harness.emulator.baseUrl) } });
    try {
      expect((await bearer.serviceAccounts.retrieve(EMULATOR_FIXTURE.adminServiceAccountId)).id).toBe(EMULATOR_FIXTURE.adminServiceAccountId);
    } finally {
      await bearer.close();
    }
  });

  it("PERMISSION_DENIED for a tunnels credential on admin endpoints", async () => {
    const tunnelsBearer = await mintAccessToken(harness.emulator.baseUrl);
    const notAdmin = new AdminClient({ baseUrl: harness.emulator.baseUrl, env: { ANTHROPIC_ADMIN_AUTH_TOKEN: tunnelsBearer } });
    try {
      const error = await apiFailure(notAdmin.serviceAccounts.retrieve(EMULATOR_FIXTURE.adminServiceAccountId));
      expect(error.code).toBe("PERMISSION_DENIED");
      expect(error.hint).toContain("org:admin");
    } finally {
      await notAdmin.close();
    }
  });
});

describe("membership and the Tunnels API", () => {
  it("PERMISSION_DENIED, asking about membership, once the service account leaves the workspace", async () => {
    const platform = await harness.tunnelsClient({
      envOverrides: { ANTHROPIC_WORKSPACE_ID: "wrkspc_platform", ANTHROPIC_SERVICE_ACCOUNT_ID: EMULATOR_FIXTURE.tunnelsServiceAccountId },
    });
    expect(await platform.tunnels.list().toArray()).toEqual([]);
    await admin.workspaceMembers.remove("wrkspc_platform", EMULATOR_FIXTURE.tunnelsServiceAccountId);
    const error = await apiFailure(platform.tunnels.list().toArray());
    expect(error).toMatchObject({ code: "PERMISSION_DENIED", status: 403 });
    expect(error.hint).toContain(`Is service account ${EMULATOR_FIXTURE.tunnelsServiceAccountId} a member of workspace wrkspc_platform?`);
  });

  it("AUTHENTICATION_FAILED from the exchange, naming rule, organization and workspace, for a non-member workspace", async () => {
    const sandbox = await harness.tunnelsClient({ envOverrides: { ANTHROPIC_WORKSPACE_ID: "wrkspc_sandbox" } });
    const error = await apiFailure(sandbox.tunnels.list().toArray());
    expect(error).toMatchObject({ code: "AUTHENTICATION_FAILED", status: 401 });
    expect(error.hint).toContain(`federation rule ${EMULATOR_FIXTURE.tunnelsRuleId}`);
    expect(error.hint).toContain(`organization ${EMULATOR_FIXTURE.organizationId}`);
    expect(error.hint).toContain("workspace wrkspc_sandbox");
    expect(error.hint).toContain("authentication history");
  });
});
