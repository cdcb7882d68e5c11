import type * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FederationRule } from "../core/api";
import { FederationRuleBindingProvider } from "./federation-rule-binding";
import type { ApiClients } from "./kit/clients";
import { ProviderRuntime } from "./kit/runtime";

const RULE = "fdrl_0123456789abcdefghijklmn";
const ORGANIZATION = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

const rule = (overrides: Partial<FederationRule> = {}): FederationRule => ({
  id: RULE,
  name: "ci",
  issuerId: "fdis_1",
  match: { subjectPrefix: "repo:acme/", audience: null, claims: {} },
  target: { type: "service_account", serviceAccountId: "svac_1" },
  oauthScope: "workspace:manage_tunnels",
  tokenLifetimeSeconds: 3600,
  workspaceIds: ["wrkspc_sandbox"],
  appliesToAllWorkspaces: false,
  createdAt: null,
  archivedAt: null,
  ...overrides,
});

/** An admin API that knows one rule and records the memberships added. */
function fakeClients(answer: FederationRule) {
  const added: string[] = [];
  const clients = {
    admin: () => ({
      federationRules: { retrieve: async () => answer },
      workspaceMembers: {
        list: async function* () {},
        add: async (workspaceId: string) => void added.push(workspaceId),
      },
    }),
  } as unknown as ApiClients;
  return { clients, added };
}

function runtimeWith(organizationId: string | undefined): ProviderRuntime {
  const runtime = new ProviderRuntime();
  const config = new Map(organizationId ? [["mcpTunnels:organizationId", organizationId]] : []);
  runtime.configure({ config: { get: (key: string) => config.get(key) } } as unknown as pulumi.dynamic.ConfigureRequest);
  return runtime;
}

const inputs = { federationRuleId: RULE, workspaceId: "wrkspc_sandbox", workspaceRole: "workspace_developer" };

afterEach(() => vi.unstubAllEnvs());

describe("FederationRuleBinding create", () => {
  it("adds the membership for a usable rule", async () => {
    const { clients, added } = fakeClients(rule());
    const created = await new FederationRuleBindingProvider(clients, runtimeWith(ORGANIZATION)).create(inputs);
    expect(created.outs).toMatchObject({ organizationId: ORGANIZATION, serviceAccountId: "svac_1", membershipCreated: true });
    expect(added).toEqual(["wrkspc_sandbox"]);
  });

  it("refuses a rule that became unusable after preview, with every fix", async () => {
    const { clients, added } = fakeClients(rule({ oauthScope: "org:admin", workspaceIds: [] }));
    const failure = new FederationRuleBindingProvider(clients, runtimeWith(ORGANIZATION)).create(inputs);
    await expect(failure).rejects.toMatchObject({
      code: "FEDERATION_RULE_UNUSABLE",
      hint: "create a rule with scope workspace:manage_tunnels in the console and use its id; enable it for wrkspc_sandbox in the console, or bind another workspace",
    });
    expect(added).toEqual([]);
  });

  it("says so when no organization id is configured", async () => {
    vi.stubEnv("ANTHROPIC_ORGANIZATION_ID", "");
    const { clients } = fakeClients(rule());
    const failure = new FederationRuleBindingProvider(clients, runtimeWith(undefined)).create(inputs);
    await expect(failure).rejects.toMatchObject({ code: "ORGANIZATION_ID_UNKNOWN", hint: expect.stringContaining("mcpTunnels:organizationId") });
  });
});
