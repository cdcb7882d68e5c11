import { DEFAULT_AUDIENCE, FEDERATION_BETA, JWT_BEARER_GRANT, OAUTH_BETA, TOKEN_EXCHANGE_PATH } from "../../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../../emulator/index";

export const DEFAULT_TEST_SUBJECT = "system:serviceaccount:mcp-tunnel:setup";

export class MintError extends Error {
  override readonly name = "MintError";
  constructor(
    readonly status: number,
    readonly step: "identity token" | "token exchange",
    message: string,
  ) {
    super(`${step} failed with ${status}: ${message}`);
  }
}

async function postJson(url: string, body: unknown, headers: Record<string, string>, step: MintError["step"]): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    const message = (parsed["error"] as { message?: string } | undefined)?.message ?? "no error message";
    throw new MintError(response.status, step, message);
  }
  return parsed;
}

/** An identity token from the emulator's built-in OIDC issuer. */
export async function mintIdentityToken(baseUrl: string, subject: string, extra: Record<string, unknown> = {}): Promise<string> {
  const body = await postJson(`${baseUrl}/_emulator/oidc/token`, { sub: subject, aud: DEFAULT_AUDIENCE, ...extra }, {}, "identity token");
  return body["id_token"] as string;
}

/** Exchanges an identity token at the token endpoint the way the official SDK does. */
export async function exchangeIdentityToken(
  baseUrl: string,
  assertion: string,
  options: { ruleId: string; workspaceId?: string; serviceAccountId?: string },
): Promise<string> {
  const body = await postJson(
    baseUrl + TOKEN_EXCHANGE_PATH,
    {
      grant_type: JWT_BEARER_GRANT,
      assertion,
      federation_rule_id: options.ruleId,
      organization_id: EMULATOR_FIXTURE.organizationId,
      ...(options.workspaceId ? { workspace_id: options.workspaceId } : {}),
      ...(options.serviceAccountId ? { service_account_id: options.serviceAccountId } : {}),
    },
    { "anthropic-beta": `${OAUTH_BETA},${FEDERATION_BETA}` },
    "token exchange",
  );
  return body["access_token"] as string;
}

/**
 * A Tunnels API bearer: an identity token for `subject` exchanged under `ruleId` (the fixture's
 * tunnels rule by default, then for the default workspace unless `workspaceId` says otherwise).
 */
export async function mintAccessToken(baseUrl: string, options: { workspaceId?: string; ruleId?: string; subject?: string } = {}): Promise<string> {
  const ruleId = options.ruleId ?? EMULATOR_FIXTURE.tunnelsRuleId;
  const workspaceId = options.workspaceId ?? (options.ruleId === undefined ? EMULATOR_FIXTURE.defaultWorkspaceId : undefined);
  const assertion = await mintIdentityToken(baseUrl, options.subject ?? DEFAULT_TEST_SUBJECT);
  return exchangeIdentityToken(baseUrl, assertion, { ruleId, ...(workspaceId ? { workspaceId } : {}) });
}

/** An org:admin bearer through the fixture's admin rule. */
export async function mintAdminToken(baseUrl: string): Promise<string> {
  const assertion = await mintIdentityToken(baseUrl, EMULATOR_FIXTURE.adminSubject);
  return exchangeIdentityToken(baseUrl, assertion, { ruleId: EMULATOR_FIXTURE.adminRuleId });
}
