import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_AUDIENCE, SCOPE_MANAGE_TUNNELS } from "../core/contract/tunnels-api";
import { isTunnelsApiError } from "../core/api/errors";
import type { FederationRule } from "../core/api";
import { federationRuleBindingSchema, type FederationRuleBindingOutputs } from "../core/schemas/federation-rule-binding";
import { clientsFrom, type ApiClients } from "./kit/clients";
import { inContext, ProviderError } from "./kit/errors";
import { checkInputs, diffInputs, engineInputs, inputsFrom, type Props } from "./kit/inputs";
import { configure, GONE, forEngine } from "./kit/provider-module";
import { providerRuntime, type ProviderRuntime } from "./kit/runtime";

const RESOURCE = "FederationRuleBinding";
const shape = federationRuleBindingSchema.inputs.shape;
/** Every service account is implicitly a member of the default workspace. */
const IMPLICIT_MEMBERSHIP_WORKSPACE = "default";

/**
 * Binds a console-created federation rule to a workspace: checks the rule can manage tunnels
 * there and makes its service account a member. Delete removes only a membership it added.
 */
export class FederationRuleBindingProvider implements pulumi.dynamic.ResourceProvider {
  constructor(
    private readonly clients: ApiClients,
    private readonly runtime: ProviderRuntime,
  ) {}

  async check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const checked = checkInputs(federationRuleBindingSchema, news);
    const { federationRuleId, workspaceId } = checked.known;
    if (checked.failures.length > 0 || typeof federationRuleId !== "string" || typeof workspaceId !== "string") {
      return { inputs: checked.inputs, failures: checked.failures };
    }
    let rule: FederationRule;
    try {
      rule = await this.clients.admin().federationRules.retrieve(federationRuleId);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { inputs: checked.inputs, failures: [{ property: "federationRuleId", reason: `federationRuleId ${federationRuleId} could not be read: ${reason}` }] };
    }
    return { inputs: checked.inputs, failures: ruleProblems(rule, workspaceId).map(({ property, problem, fix }) => ({ property, reason: `${problem}: ${fix}` })) };
  }

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    return diffInputs(shape, olds, news);
  }

  async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const args = engineInputs(federationRuleBindingSchema, "create", inputs);
    return inContext(`${RESOURCE} ${args.federationRuleId} → ${args.workspaceId}`, "create", async () => {
      const rule = await this.clients.admin().federationRules.retrieve(args.federationRuleId);
      const problems = ruleProblems(rule, args.workspaceId);
      if (problems.length > 0) {
        throw new ProviderError("FEDERATION_RULE_UNUSABLE", problems.map((p) => `${p.problem}: ${p.fix}`).join("; "), { hint: problems.map((p) => p.fix).join("; ") });
      }
      const serviceAccountId = rule.target.serviceAccountId;
      let membershipCreated = false;
      if (!(await this.isMember(args.workspaceId, serviceAccountId))) {
        await this.clients.admin().workspaceMembers.add(args.workspaceId, { serviceAccountId, workspaceRole: args.workspaceRole });
        membershipCreated = true;
      }
      return { id: `${args.federationRuleId}/${args.workspaceId}`, outs: { ...inputs, ...this.outputsOf(rule, args.workspaceId, membershipCreated) } };
    });
  }

  async read(id: string, props: Props): Promise<pulumi.dynamic.ReadResult> {
    // Recorded state, perhaps written by an earlier version of this provider: read as it is, never
    // validated, so a refresh cannot fail on a field today's schema would refuse.
    const federationRuleId = String(props.federationRuleId);
    const workspaceId = String(props.workspaceId);
    return inContext(`${RESOURCE} ${id}`, "read", async () => {
      let rule: FederationRule;
      try {
        rule = await this.clients.admin().federationRules.retrieve(federationRuleId);
      } catch (error) {
        if (isTunnelsApiError(error, "TUNNELS_NOT_FOUND")) return GONE;
        throw error;
      }
      if (rule.archivedAt) return GONE;
      // A membership removed out of band is drift: gone, so the next `up` binds again.
      if (!(await this.isMember(workspaceId, rule.target.serviceAccountId))) return GONE;
      const outs = { ...props, ...this.outputsOf(rule, workspaceId, props.membershipCreated === true) };
      return { id, props: outs, inputs: inputsFrom(shape, outs) };
    });
  }

  async update(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
    const args = engineInputs(federationRuleBindingSchema, "update", news);
    const outs = { ...olds, ...news };
    // Only a role on a membership this resource added is ours to change.
    if (olds.membershipCreated === true && olds.workspaceRole !== args.workspaceRole) {
      await inContext(`${RESOURCE} ${args.federationRuleId} → ${args.workspaceId}`, "update", () =>
        this.clients.admin().workspaceMembers.add(args.workspaceId, { serviceAccountId: String(olds.serviceAccountId), workspaceRole: args.workspaceRole }),
      );
    }
    return { outs };
  }

  async delete(id: string, props: Props): Promise<void> {
    if (props.membershipCreated !== true) return;
    await inContext(`${RESOURCE} ${id}`, "delete", () => this.clients.admin().workspaceMembers.remove(String(props.workspaceId), String(props.serviceAccountId)));
  }

  private async isMember(workspaceId: string, serviceAccountId: string): Promise<boolean> {
    if (workspaceId === IMPLICIT_MEMBERSHIP_WORKSPACE) return true;
    for await (const member of this.clients.admin().workspaceMembers.list(workspaceId)) {
      if (member.serviceAccountId === serviceAccountId) return true;
    }
    return false;
  }

  private outputsOf(rule: FederationRule, workspaceId: string, membershipCreated: boolean): FederationRuleBindingOutputs {
    const organizationId = this.runtime.setting("organizationId");
    if (!organizationId) {
      const hint = "set mcpTunnels:organizationId (or ANTHROPIC_ORGANIZATION_ID) to your organization's UUID";
      throw new ProviderError("ORGANIZATION_ID_UNKNOWN", `the organization id is unknown: ${hint}`, { hint });
    }
    return {
      federationRuleId: rule.id,
      organizationId,
      workspaceId,
      serviceAccountId: rule.target.serviceAccountId,
      audience: rule.match.audience ?? DEFAULT_AUDIENCE,
      subjectPrefix: rule.match.subjectPrefix ?? "",
      membershipCreated,
    };
  }
}

interface RuleProblem {
  property: "federationRuleId" | "workspaceId";
  problem: string;
  fix: string;
}

/** Why a rule cannot back this binding, each with its fix: check failures at preview, FEDERATION_RULE_UNUSABLE at create. */
function ruleProblems(rule: FederationRule, workspaceId: string): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (rule.archivedAt) problems.push({ property: "federationRuleId", problem: `federation rule ${rule.id} is archived`, fix: "create a new rule in the console and use its id" });
  if (!rule.oauthScope.split(/\s+/).includes(SCOPE_MANAGE_TUNNELS)) {
    problems.push({
      property: "federationRuleId",
      problem: `federation rule ${rule.id} has scope "${rule.oauthScope}", not ${SCOPE_MANAGE_TUNNELS}`,
      fix: `create a rule with scope ${SCOPE_MANAGE_TUNNELS} in the console and use its id`,
    });
  }
  if (!rule.appliesToAllWorkspaces && !rule.workspaceIds.includes(workspaceId)) {
    problems.push({
      property: "workspaceId",
      problem: `federation rule ${rule.id} is not enabled for workspace ${workspaceId} (enabled for: ${rule.workspaceIds.join(", ") || "none"})`,
      fix: `enable it for ${workspaceId} in the console, or bind another workspace`,
    });
  }
  return problems;
}

export const provider = forEngine(federationRuleBindingSchema, new FederationRuleBindingProvider(clientsFrom(), providerRuntime));
export { configure };
