import { EMULATOR_FIXTURE } from "./fixture-ids";
import { IMPLICIT_DEFAULT_WORKSPACE_ROLE, type WorkspaceRole } from "../decided/constants";
import type { MembershipRecord, ServiceAccountRecord, State } from "./store";

// Every service account is implicitly a member of the default workspace; an explicit record there
// only overrides the role.

export interface Membership {
  service_account_id: string;
  workspace_id: string;
  workspace_role: WorkspaceRole;
  implicit: boolean;
  seq: number;
}

function implicitMembership(account: ServiceAccountRecord): Membership {
  return {
    service_account_id: account.id,
    workspace_id: EMULATOR_FIXTURE.defaultWorkspaceId,
    workspace_role: IMPLICIT_DEFAULT_WORKSPACE_ROLE,
    implicit: true,
    seq: account.seq,
  };
}

function fromRecord(record: MembershipRecord): Membership {
  return { ...record, implicit: record.workspace_id === EMULATOR_FIXTURE.defaultWorkspaceId };
}

export function membershipsOfAccount(state: State, account: ServiceAccountRecord): Membership[] {
  const explicit = state.memberships.filter((record) => record.service_account_id === account.id).map(fromRecord);
  if (!explicit.some((membership) => membership.workspace_id === EMULATOR_FIXTURE.defaultWorkspaceId)) explicit.push(implicitMembership(account));
  return explicit;
}

export function membershipsOfWorkspace(state: State, workspaceId: string): Membership[] {
  const accounts = state.serviceAccounts.filter((account) => account.archived_at === null);
  return accounts.flatMap((account) => membershipsOfAccount(state, account).filter((membership) => membership.workspace_id === workspaceId));
}

export function findMembership(state: State, serviceAccountId: string, workspaceId: string): Membership | undefined {
  const account = state.serviceAccounts.find((candidate) => candidate.id === serviceAccountId);
  if (!account) return undefined;
  return membershipsOfAccount(state, account).find((membership) => membership.workspace_id === workspaceId);
}

export function presentMembership(membership: Membership) {
  return {
    type: "service_account_workspace_member" as const,
    service_account_id: membership.service_account_id,
    workspace_id: membership.workspace_id,
    workspace_role: membership.workspace_role,
    implicit: membership.implicit,
    created_by_actor_id: null,
  };
}
