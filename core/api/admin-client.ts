import { ApiSession, type ApiClientOptions, type Paginated } from "./api-session";
import {
  addWorkspaceMemberInput,
  federationRuleIdInput,
  federationRuleSchema,
  listAdminInput,
  serviceAccountIdInput,
  serviceAccountSchema,
  workspaceIdInput,
  workspaceMemberSchema,
  type AddWorkspaceMemberInput,
  type FederationRule,
  type ListAdminInput,
  type ServiceAccount,
  type WorkspaceMember,
} from "./objects";

export type AdminClientOptions = ApiClientOptions;

/**
 * The organization Admin API pieces tunnel setup needs: reading federation rules and service
 * accounts, and managing which service accounts belong to a workspace (the Tunnels API
 * authorizes on that membership). Authenticated with ANTHROPIC_ADMIN_AUTH_TOKEN or an admin
 * federation rule (ANTHROPIC_ADMIN_FEDERATION_RULE_ID).
 */
export class AdminClient {
  readonly federationRules: FederationRuleOperations;
  readonly serviceAccounts: ServiceAccountOperations;
  readonly workspaceMembers: WorkspaceMemberOperations;
  readonly #session: ApiSession;

  constructor(options: AdminClientOptions = {}) {
    this.#session = new ApiSession("admin", options);
    this.federationRules = new FederationRuleOperations(this.#session);
    this.serviceAccounts = new ServiceAccountOperations(this.#session);
    this.workspaceMembers = new WorkspaceMemberOperations(this.#session);
  }

  close(): Promise<void> {
    return this.#session.close();
  }
}

export class FederationRuleOperations {
  constructor(readonly session: ApiSession) {}

  async retrieve(ruleId: string): Promise<FederationRule> {
    const operation = "admin.federationRules.retrieve";
    const id = this.session.check(operation, federationRuleIdInput, ruleId);
    return this.session.call(operation, federationRuleSchema, (sdk) => sdk.beta.organization.federation.rules.retrieve(id));
  }
}

export class ServiceAccountOperations {
  constructor(readonly session: ApiSession) {}

  async retrieve(serviceAccountId: string): Promise<ServiceAccount> {
    const operation = "admin.serviceAccounts.retrieve";
    const id = this.session.check(operation, serviceAccountIdInput, serviceAccountId);
    return this.session.call(operation, serviceAccountSchema, (sdk) => sdk.beta.organization.serviceAccounts.retrieve(id));
  }
}

export class WorkspaceMemberOperations {
  constructor(readonly session: ApiSession) {}

  /** The workspace's service-account members, across all pages. */
  list(workspaceId: string, input: ListAdminInput = {}): Paginated<WorkspaceMember> {
    const operation = "admin.workspaceMembers.list";
    return this.session.paginate(operation, workspaceMemberSchema, (sdk) => {
      const workspace = this.session.check(operation, workspaceIdInput, workspaceId);
      const { limit } = this.session.check(operation, listAdminInput, input);
      return sdk.beta.organization.workspaces.serviceAccounts.list(workspace, limit !== undefined ? { limit } : {});
    });
  }

  /** Adds a member, or changes the role of an existing one (so repeating it is safe). */
  async add(workspaceId: string, input: AddWorkspaceMemberInput): Promise<WorkspaceMember> {
    const operation = "admin.workspaceMembers.add";
    const workspace = this.session.check(operation, workspaceIdInput, workspaceId);
    const { serviceAccountId, workspaceRole } = this.session.check(operation, addWorkspaceMemberInput, input);
    return this.session.call(operation, workspaceMemberSchema, (sdk) =>
      sdk.beta.organization.workspaces.serviceAccounts.add(workspace, {
        service_account_id: serviceAccountId,
        workspace_role: workspaceRole,
      }),
    );
  }

  /** Idempotent: removing a non-member succeeds. */
  async remove(workspaceId: string, serviceAccountId: string): Promise<void> {
    const operation = "admin.workspaceMembers.remove";
    const workspace = this.session.check(operation, workspaceIdInput, workspaceId);
    const account = this.session.check(operation, serviceAccountIdInput, serviceAccountId);
    await this.session.send(operation, (sdk) =>
      sdk.beta.organization.workspaces.serviceAccounts.remove(account, { workspace_id: workspace }),
    );
  }
}
