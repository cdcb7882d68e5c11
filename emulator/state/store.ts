import type { WorkspaceRole } from "../decided/constants";

// State is plain JSON-able data. Every mutation runs synchronously inside one `mutate` call, so no
// other request can interleave between a limit check and the write that depends on it.

export interface WorkspaceRecord {
  id: string;
  name: string;
  created_at: string;
  seq: number;
}

export interface ServiceAccountRecord {
  id: string;
  name: string;
  description: string | null;
  organization_role: "admin" | "developer";
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  seq: number;
}

export interface MembershipRecord {
  service_account_id: string;
  workspace_id: string;
  workspace_role: WorkspaceRole;
  created_at: string;
  seq: number;
}

export type JwksConfig =
  | { type: "inline"; keys: Record<string, unknown>[] }
  | { type: "discovery"; discovery_base?: string | null; ca_cert_pem?: string | null }
  | { type: "explicit_url"; url: string; ca_cert_pem?: string | null };

export interface IssuerRecord {
  id: string;
  name: string;
  issuer_url: string;
  jwks: JwksConfig;
  max_jwt_lifetime_seconds: number;
  check_jti: boolean;
  jwks_polling_disabled_at: string | null;
  console_managed: boolean;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  seq: number;
}

export interface RuleMatch {
  subject_prefix: string | null;
  audience: string | null;
  claims: Record<string, string> | null;
}

export interface RuleWorkspaceRecord {
  workspace_id: string;
  created_at: string;
  seq: number;
}

export interface RuleRecord {
  id: string;
  name: string;
  description: string | null;
  issuer_id: string;
  match: RuleMatch;
  target: { type: "service_account"; service_account_id: string };
  oauth_scope: string;
  token_lifetime_seconds: number;
  applies_to_all_workspaces: boolean;
  workspaces: RuleWorkspaceRecord[];
  attributes: Record<string, string> | null;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  seq: number;
}

export interface TunnelTokenRecord {
  id: string;
  value: string;
  created_at: string;
}

export interface TunnelRecord {
  id: string;
  workspace_id: string;
  display_name: string | null;
  domain: string;
  created_at: string;
  archived_at: string | null;
  token: TunnelTokenRecord;
  /** SHA-256 of every rotated-away token value, so a connect check can say "rotated". */
  retired_token_hashes: string[];
  seq: number;
}

export interface CertificateRecord {
  id: string;
  tunnel_id: string;
  fingerprint: string;
  expires_at: string | null;
  pem: string;
  created_at: string;
  archived_at: string | null;
  seq: number;
}

/** Access tokens are kept only as their SHA-256. */
export interface AccessTokenRecord {
  federation_rule_id: string;
  service_account_id: string;
  workspace_id: string;
  scope: string;
  issued_at: string;
  expires_at: string;
}

export interface AuditEntry {
  at: string;
  action: string;
  actor: string;
  tunnel_id?: string;
  detail: Record<string, unknown>;
}

export interface State {
  organization: { id: string; name: string };
  seq: number;
  workspaces: WorkspaceRecord[];
  serviceAccounts: ServiceAccountRecord[];
  memberships: MembershipRecord[];
  issuers: IssuerRecord[];
  rules: RuleRecord[];
  tunnels: TunnelRecord[];
  certificates: CertificateRecord[];
  /** Every tunnel domain ever handed out: domains are unique forever. */
  usedDomains: string[];
  accessTokens: Record<string, AccessTokenRecord>;
  /** `<issuer id> <jti>` → epoch seconds after which the entry can be forgotten. */
  usedJtis: Record<string, number>;
  audit: AuditEntry[];
}

export class Store {
  constructor(
    public state: State,
    private readonly persist: (state: State) => void = () => {},
  ) {}

  /** Runs `change` and persists the result before anything else can run. */
  mutate<T>(change: (state: State) => T): T {
    const result = change(this.state);
    this.persist(this.state);
    return result;
  }

  replace(state: State): void {
    this.state = state;
    this.persist(this.state);
  }

  nextSeq(): number {
    this.state.seq += 1;
    return this.state.seq;
  }
}
