import {
  FEDERATION_RULE_ID_PATTERN,
  ORGANIZATION_ID_PATTERN,
  PRODUCTION_BASE_URL,
  WORKSPACE_ID_PATTERN,
} from "../contract/tunnels-api";
import { configurationError } from "./errors";

/** Where settings come from: `process.env` by default, or a map the provider builds from stack config. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

export type IdentityTokenSource =
  | { kind: "file"; path: string; variable: string }
  | { kind: "value"; value: string; variable: string };

/** A ready bearer (already minted elsewhere). */
export interface BearerCredentials {
  kind: "bearer";
  token: string;
  variable: string;
}

/** A Workload Identity Federation exchange: identity token in, workspace-bound access token out. */
export interface FederationCredentials {
  kind: "federation";
  ruleId: string;
  ruleVariable: string;
  organizationId: string;
  /** Omitted: the rule's sole workspace, or the organization default. */
  workspaceId: string | undefined;
  serviceAccountId: string | undefined;
  identityToken: IdentityTokenSource;
}

export type ResolvedCredentials = BearerCredentials | FederationCredentials;

export type CredentialAudience = "tunnels" | "admin";

/** Variable names per audience. Admin calls may use their own identity token; they fall back to the shared one. */
const VARIABLES = {
  tunnels: {
    bearer: "ANTHROPIC_AUTH_TOKEN",
    rule: "ANTHROPIC_FEDERATION_RULE_ID",
    identityFile: ["ANTHROPIC_IDENTITY_TOKEN_FILE"],
    identityValue: ["ANTHROPIC_IDENTITY_TOKEN"],
    workspace: "ANTHROPIC_WORKSPACE_ID",
    serviceAccount: "ANTHROPIC_SERVICE_ACCOUNT_ID",
    scope: "workspace:manage_tunnels",
  },
  admin: {
    bearer: "ANTHROPIC_ADMIN_AUTH_TOKEN",
    rule: "ANTHROPIC_ADMIN_FEDERATION_RULE_ID",
    identityFile: ["ANTHROPIC_ADMIN_IDENTITY_TOKEN_FILE", "ANTHROPIC_IDENTITY_TOKEN_FILE"],
    identityValue: ["ANTHROPIC_ADMIN_IDENTITY_TOKEN", "ANTHROPIC_IDENTITY_TOKEN"],
    workspace: undefined,
    serviceAccount: undefined,
    scope: "org:admin",
  },
} as const;

const ORGANIZATION_VARIABLE = "ANTHROPIC_ORGANIZATION_ID";

/** Like the SDK's readEnv: surrounding whitespace is dropped and an empty value counts as unset. */
export function readSetting(env: EnvSource, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function resolveBaseUrl(env: EnvSource, explicit: string | undefined): string {
  const raw = explicit?.trim() || readSetting(env, "ANTHROPIC_BASE_URL") || PRODUCTION_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configurationError(
      "the API base URL is not a URL",
      "Set baseUrl (or ANTHROPIC_BASE_URL) to an absolute URL such as https://api.anthropic.com.",
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw configurationError("the API base URL must use https", "Set baseUrl (or ANTHROPIC_BASE_URL) to an https:// URL.");
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    throw configurationError(
      "the API base URL uses plain http to a host that is not this machine, which would send credentials unencrypted",
      "Use an https:// URL; plain http is allowed only for loopback (127.0.0.1, ::1, localhost), e.g. the local emulator.",
    );
  }
  if (url.username || url.password) {
    throw configurationError("the API base URL carries credentials", "Remove the user:password part; credentials come from the environment.");
  }
  return raw.replace(/\/+$/, "");
}

/**
 * Which API a Tunnels client's calls reach, and the organization and workspace its settings name:
 * what anything kept per API target (the provider's create journal) keys on, asked of the client
 * instead of read again from the settings.
 */
export interface ApiTarget {
  /** Validated as the client validates it, without a trailing slash. */
  baseUrl: string;
  /** ANTHROPIC_ORGANIZATION_ID, which a federation exchange is bound to (resolveCredentials checks it). */
  organizationId: string | undefined;
  /** ANTHROPIC_WORKSPACE_ID, which a federation exchange is bound to (resolveCredentials checks it). */
  workspaceId: string | undefined;
}

/** The target of a Tunnels client given these settings; refuses a base URL the client would refuse. */
export function resolveApiTarget(env: EnvSource, explicitBaseUrl?: string): ApiTarget {
  return {
    baseUrl: resolveBaseUrl(env, explicitBaseUrl),
    organizationId: readSetting(env, ORGANIZATION_VARIABLE),
    workspaceId: readSetting(env, VARIABLES.tunnels.workspace),
  };
}

/** 127.0.0.0/8, ::1 and localhost: the only hosts plain http may reach. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Decides which credential a client uses, from settings alone (no I/O). Every missing or
 * contradictory setting is reported at once, naming the variables to set. An
 * ANTHROPIC_API_KEY is never a credential here: the Tunnels API refuses API keys.
 */
export function resolveCredentials(env: EnvSource, audience: CredentialAudience): ResolvedCredentials {
  const names = VARIABLES[audience];
  const bearer = readSetting(env, names.bearer);
  const ruleId = readSetting(env, names.rule);
  const organizationId = readSetting(env, ORGANIZATION_VARIABLE);
  const identity = firstIdentitySource(env, names.identityFile, names.identityValue);
  const problems: string[] = [];

  if (bearer !== undefined) {
    if (ruleId !== undefined) {
      problems.push(`both ${names.bearer} and ${names.rule} are set; set only one of them`);
    }
    if (problems.length > 0) throw contradiction(audience, problems);
    return { kind: "bearer", token: bearer, variable: names.bearer };
  }

  if (ruleId === undefined) {
    throw missingCredentials(audience, env, identity.found !== undefined || organizationId !== undefined);
  }

  if (!FEDERATION_RULE_ID_PATTERN.test(ruleId)) problems.push(`${names.rule} must look like fdrl_…`);
  if (organizationId === undefined) problems.push(`${ORGANIZATION_VARIABLE} is not set (the organization UUID)`);
  else if (!ORGANIZATION_ID_PATTERN.test(organizationId)) problems.push(`${ORGANIZATION_VARIABLE} must be a UUID`);
  const workspaceId = names.workspace ? readSetting(env, names.workspace) : undefined;
  if (names.workspace && workspaceId !== undefined && !WORKSPACE_ID_PATTERN.test(workspaceId)) {
    problems.push(`${names.workspace} must look like wrkspc_… (or be "default")`);
  }
  if (identity.conflict) problems.push(identity.conflict);
  else if (identity.found === undefined) {
    problems.push(`no identity token: set ${[...names.identityFile, ...names.identityValue].join(" or ")}`);
  }
  if (problems.length > 0 || identity.found === undefined || organizationId === undefined) {
    throw contradiction(audience, problems);
  }

  return {
    kind: "federation",
    ruleId,
    ruleVariable: names.rule,
    organizationId,
    workspaceId,
    serviceAccountId: names.serviceAccount ? readSetting(env, names.serviceAccount) : undefined,
    identityToken: identity.found,
  };
}

/**
 * The first identity-token variable pair that is set wins (admin-specific before shared). Within
 * one pair, a file and a value at once is ambiguous, so it is refused rather than guessed.
 */
function firstIdentitySource(
  env: EnvSource,
  fileVariables: readonly string[],
  valueVariables: readonly string[],
): { found?: IdentityTokenSource; conflict?: string } {
  for (let i = 0; i < fileVariables.length; i++) {
    const fileVariable = fileVariables[i]!;
    const valueVariable = valueVariables[i]!;
    const path = readSetting(env, fileVariable);
    const value = readSetting(env, valueVariable);
    if (path !== undefined && value !== undefined) {
      return { conflict: `both ${fileVariable} and ${valueVariable} are set; set only one of them` };
    }
    if (path !== undefined) return { found: { kind: "file", path, variable: fileVariable } };
    if (value !== undefined) return { found: { kind: "value", value, variable: valueVariable } };
  }
  return {};
}

function whatToSet(audience: CredentialAudience): string {
  const names = VARIABLES[audience];
  const workspace = names.workspace ? `, ${names.workspace} (optional: the rule's default workspace otherwise)` : "";
  const identity = [...names.identityFile, ...names.identityValue].join(" or ");
  return (
    `Set either ${names.bearer} (a bearer with scope ${names.scope}), or ` +
    `${names.rule}, ${ORGANIZATION_VARIABLE}${workspace} and one of ${identity}.`
  );
}

function contradiction(audience: CredentialAudience, problems: string[]) {
  return configurationError(
    `${audience === "admin" ? "admin" : "Tunnels API"} credentials are misconfigured: ${problems.join("; ")}`,
    whatToSet(audience),
  );
}

function missingCredentials(audience: CredentialAudience, env: EnvSource, partial: boolean) {
  const notes: string[] = [];
  if (partial) notes.push(`an identity token or organization is set but ${VARIABLES[audience].rule} is not`);
  if (readSetting(env, "ANTHROPIC_API_KEY") !== undefined) {
    notes.push("ANTHROPIC_API_KEY is set but ignored: the Tunnels API does not accept API keys");
  }
  return configurationError(
    `no ${audience === "admin" ? "admin" : "Tunnels API"} credentials found${notes.length ? ` (${notes.join("; ")})` : ""}`,
    whatToSet(audience),
  );
}
