import { z } from "zod";
import { FEDERATION_RULE_ID_PATTERN, WORKSPACE_ID_PATTERN } from "../contract/tunnels-api";
import { field, type ResourceSchema } from "./field";

export const WORKSPACE_ROLES = ["workspace_developer", "workspace_restricted_developer", "workspace_admin"] as const;

const inputs = z.strictObject({
  federationRuleId: field(
    z.string({ error: "federationRuleId is required: the fdrl_… id of the rule created in the console" }).regex(FEDERATION_RULE_ID_PATTERN, "federationRuleId must be a federation rule id (fdrl_…) from the console's Workload identity page"),
    { description: "The console-created federation rule (`fdrl_…`) with scope `workspace:manage_tunnels`.", replaceOnChanges: true },
  ),
  workspaceId: field(
    z.string({ error: "workspaceId is required: the wrkspc_… id of the tunnel's workspace" }).regex(WORKSPACE_ID_PATTERN, "workspaceId must be a workspace id (wrkspc_…) or default"),
    { description: "The workspace the tunnels live in; the rule's service account must be a member of it.", replaceOnChanges: true },
  ),
  workspaceRole: field(
    z.enum(WORKSPACE_ROLES, { error: `workspaceRole must be one of ${WORKSPACE_ROLES.join(", ")}` }).default("workspace_developer"),
    { description: `Role given to the service account when this resource adds the membership: one of ${WORKSPACE_ROLES.join(", ")}.` },
  ),
});

const outputs = z.object({
  federationRuleId: field(z.string(), { description: "The federation rule id (`fdrl_…`)." }),
  organizationId: field(z.string(), { description: "The organization id (UUID) for `ANTHROPIC_ORGANIZATION_ID` / `api.wif.organizationId`." }),
  workspaceId: field(z.string(), { description: "The workspace id." }),
  serviceAccountId: field(z.string(), { description: "The rule's target service account (`svac_…`)." }),
  audience: field(z.string(), { description: "The audience the identity token must carry (`api.wif.audience`)." }),
  subjectPrefix: field(z.string(), { description: "The subject (prefix) the identity token must match." }),
  membershipCreated: field(z.boolean(), { description: "Whether this resource added the service account to the workspace (and so removes it on delete)." }),
});

export const federationRuleBindingSchema = { typeName: "FederationRuleBinding" as const, inputs, outputs } satisfies ResourceSchema;
export type FederationRuleBindingInputs = z.output<typeof inputs>;
export type FederationRuleBindingOutputs = z.output<typeof outputs>;
