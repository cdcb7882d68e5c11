import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_FIXTURE } from "../../emulator/index";
import { generateCertificateAuthority } from "../../core/pki";
import { Conformance } from "./conformance-client";

// The official SDK is the reference client: pointed at the emulator it must work unchanged.

let emu: Conformance;
let dir: string;

beforeAll(async () => {
  emu = await Conformance.start();
  dir = mkdtempSync(join(tmpdir(), "emulator-sdk-"));
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

const sdkWithToken = async (workspaceId?: string) => new Anthropic({ baseURL: emu.baseUrl, authToken: await emu.tunnelsToken(workspaceId), maxRetries: 0 });

describe("the official SDK against the emulator", () => {
  it("drives tunnels and certificates with a bearer from the exchange", async () => {
    const client = await sdkWithToken();
    const tunnel = await client.beta.tunnels.create({ display_name: "sdk" });
    expect(tunnel).toMatchObject({ type: "tunnel", display_name: "sdk", archived_at: null });
    for (let i = 0; i < 2; i++) await client.beta.tunnels.create({});
    const ids: string[] = [];
    for await (const listed of client.beta.tunnels.list({ limit: 1 })) ids.push(listed.id);
    expect(ids).toHaveLength(3);
    expect(ids[2]).toBe(tunnel.id);
    expect(await client.beta.tunnels.retrieve(tunnel.id)).toEqual(tunnel);

    const ca = await generateCertificateAuthority({ commonName: "SDK CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
    const certificate = await client.beta.tunnels.certificates.create(tunnel.id, { ca_certificate_pem: ca.certificatePem });
    expect(certificate.fingerprint).toBe(ca.fingerprint);
    expect((await client.beta.tunnels.certificates.list(tunnel.id)).data).toEqual([certificate]);
    expect(await client.beta.tunnels.certificates.retrieve(certificate.id, { tunnel_id: tunnel.id })).toEqual(certificate);

    const revealed = await client.beta.tunnels.revealToken(tunnel.id);
    const rotated = await client.beta.tunnels.rotateToken(tunnel.id, { reason: "sdk test" });
    expect(rotated.id).not.toBe(revealed.id);

    const archivedCertificate = await client.beta.tunnels.certificates.archive(certificate.id, { tunnel_id: tunnel.id });
    expect(archivedCertificate.archived_at).not.toBeNull();
    const archived = await client.beta.tunnels.archive(tunnel.id);
    expect(archived.archived_at).not.toBeNull();
    expect((await client.beta.tunnels.list({ include_archived: true })).data.map((t) => t.id)).toContain(tunnel.id);
  });

  it("surfaces the emulator's errors as the SDK's typed errors", async () => {
    const client = await sdkWithToken();
    await expect(client.beta.tunnels.retrieve("tnl_111111111111111111111111")).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    const tunnel = await client.beta.tunnels.create({});
    await client.beta.tunnels.archive(tunnel.id);
    const error = await client.beta.tunnels.revealToken(tunnel.id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.ConflictError);
    expect((error as InstanceType<typeof Anthropic.ConflictError>).requestID).toMatch(/^req_/);
    const foreign = await client.beta.tunnels.create({}, { headers: { "anthropic-workspace-id": "wrkspc_platform" } }).catch((caught: unknown) => caught);
    expect(foreign).toBeInstanceOf(Anthropic.PermissionDeniedError);
  });

  it("authenticates through its own WIF credential chain with an identity-token file", async () => {
    const identityTokenPath = join(dir, "identity-token");
    writeFileSync(identityTokenPath, await emu.identityToken("system:serviceaccount:mcp-tunnel:sdk"), { mode: 0o600 });
    const client = new Anthropic({
      baseURL: emu.baseUrl,
      maxRetries: 0,
      config: {
        authentication: {
          type: "oidc_federation",
          federation_rule_id: EMULATOR_FIXTURE.tunnelsRuleId,
          identity_token: { source: "file", path: identityTokenPath },
        },
        organization_id: EMULATOR_FIXTURE.organizationId,
        workspace_id: "wrkspc_platform",
      },
    });
    const tunnel = await client.beta.tunnels.create({ display_name: "via wif" });
    const again = await client.beta.tunnels.retrieve(tunnel.id);
    expect(again.id).toBe(tunnel.id);
    const exchanges = (await emu.audit()).filter((entry) => entry.action === "oauth.exchange" && entry.detail["subject"] === "system:serviceaccount:mcp-tunnel:sdk");
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.detail["workspace_id"]).toBe("wrkspc_platform");
    const created = (await emu.audit()).find((entry) => entry.action === "tunnel.create" && entry.tunnel_id === tunnel.id);
    expect(created?.detail["workspace_id"]).toBe("wrkspc_platform");
  });

  it("reads the admin objects", async () => {
    const client = new Anthropic({ baseURL: emu.baseUrl, authToken: await emu.adminToken(), maxRetries: 0 });
    const rule = await client.beta.organization.federation.rules.retrieve(EMULATOR_FIXTURE.tunnelsRuleId);
    expect(rule.oauth_scope).toBe("workspace:manage_tunnels");
    const issuers = [];
    for await (const issuer of client.beta.organization.federation.issuers.list({ limit: 1 })) issuers.push(issuer.id);
    expect(issuers).toContain(EMULATOR_FIXTURE.issuerId);
    const ruleWorkspaces = (await client.beta.organization.federation.rules.workspaces.list(EMULATOR_FIXTURE.tunnelsRuleId)).data;
    expect(ruleWorkspaces.map((entry) => entry.workspace_id).sort()).toEqual([...EMULATOR_FIXTURE.workspaces].sort());
    const memberships = (await client.beta.organization.serviceAccounts.workspaces.list(EMULATOR_FIXTURE.tunnelsServiceAccountId)).data;
    expect(memberships.map((membership) => membership.workspace_id).sort()).toEqual(["wrkspc_default", "wrkspc_platform"]);
    const member = await client.beta.organization.workspaces.serviceAccounts.retrieve(EMULATOR_FIXTURE.tunnelsServiceAccountId, { workspace_id: "wrkspc_platform" });
    expect(member.workspace_role).toBe("workspace_developer");
    const account = await client.beta.organization.serviceAccounts.create({ name: "from-sdk" });
    const added = await client.beta.organization.workspaces.serviceAccounts.add("wrkspc_sandbox", { service_account_id: account.id, workspace_role: "workspace_user" });
    expect(added.implicit).toBe(false);
    const removed = await client.beta.organization.serviceAccounts.workspaces.remove("wrkspc_sandbox", { service_account_id: account.id });
    expect(removed.type).toBe("service_account_workspace_member_deleted");
  });
});
