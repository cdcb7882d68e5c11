import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tunnels from "pulumi-mcp-tunnels";
import { ChartModel, type KubernetesSecret } from "../../twin/chart-model";
import { TestEmulator } from "../harness/emulator";
import { createHermeticStack } from "../harness/stack";

// helmValues (and, in external mode, the Secrets) handed to a model of the chart: what the chart
// would do with them — run its setup hook or not, which keys it would ignore, which Secret keys
// its pods read — on the real engine's outputs, with the setup twin talking to the emulator.

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator?.close());

function chartModel() {
  const secrets = new Map<string, KubernetesSecret>();
  const model = new ChartModel({
    release: "mcp-tunnel",
    namespace: "mcp-tunnel",
    cluster: {
      secrets,
      serviceAccountToken: async (subject, audience) =>
        (await emulator.control<{ id_token: string }>("POST", "/_emulator/oidc/token", { sub: subject, aud: audience, ttl_seconds: 600 })).id_token,
    },
    outside: { edgeUrl: emulator.edgeUrl, rewriteUrl: (url) => url.replace("https://api.anthropic.com", emulator.baseUrl) },
  });
  return { model, secrets };
}

const rotationsOf = async (tunnelId: string) => (await emulator.audit()).filter((entry) => entry.action === "token.rotate" && entry.tunnel_id === tunnelId);

describe("helmValues in the chart model", () => {
  it("managed mode: install runs setup once against the stack's tunnel, and a token rotation re-runs setup and rotates, with no key the chart ignores", async () => {
    const settings = { tokenRotation: "1" };
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv("wrkspc_platform"),
      program: async () => {
        const deployment = new tunnels.TunnelDeployment("managed", {
          mode: "programmatic",
          displayName: "e2e-chart-managed",
          routes: { mcp: "http://10.0.0.5:8080" },
          federationRuleId: "fdrl_tunnels",
          workspaceId: "wrkspc_platform",
          token: { rotation: settings.tokenRotation },
        });
        return { tunnelId: deployment.tunnelId, helmValues: deployment.helmValues };
      },
    });
    const first = (await stack.up()).outputs;
    const tunnelId = first.tunnelId?.value as string;
    const { model, secrets } = chartModel();

    const install = await model.install(first.helmValues?.value as Record<string, unknown>);
    expect(install.mode).toBe("managed");
    expect(install.ignored).toEqual([]);
    expect(install.setupHook).toMatchObject({ ran: true, exitCode: 0 });
    expect(install.cronJob).toMatchObject({ renewBefore: "720h" });
    expect(secrets.get("mcp-tunnel")).toBeDefined();
    // Setup attached to the stack's tunnel instead of creating one.
    const platformTunnels = await emulator.api<{ data: { id: string }[] }>("GET", "/v1/tunnels?limit=100", undefined, "wrkspc_platform");
    expect(platformTunnels.data.map((t) => t.id)).toEqual([tunnelId]);
    const installedToken = secrets.get("mcp-tunnel")!.data["tunnel-token"];

    settings.tokenRotation = "2";
    const rotated = (await stack.up()).outputs;
    expect(rotated.helmValues?.value).toMatchObject({ tunnel: { tokenVersion: "2" }, setup: { force: true } });
    const upgrade = await model.upgrade(rotated.helmValues?.value as Record<string, unknown>);
    expect(upgrade.setupHook).toMatchObject({ ran: true, exitCode: 0 });
    expect(await rotationsOf(tunnelId)).toHaveLength(1);
    expect(secrets.get("mcp-tunnel")!.data["tunnel-token"]).not.toBe(installedToken);

    // Another upgrade re-runs the idempotent hook and rotates nothing.
    const again = await model.upgrade(rotated.helmValues?.value as Record<string, unknown>);
    expect(again.setupHook).toMatchObject({ ran: true, exitCode: 0 });
    expect(await rotationsOf(tunnelId)).toHaveLength(1);

    // Without setup.force (what the outputs emitted before), the same rotation would do nothing.
    const values = rotated.helmValues?.value as { setup: Record<string, unknown>; tunnel: Record<string, unknown> };
    const withoutForce = await model.upgrade({ ...values, setup: { enabled: true }, tunnel: { ...values.tunnel, tokenVersion: "3" } });
    expect(withoutForce.setupHook).toMatchObject({ ran: false });
    expect(await rotationsOf(tunnelId)).toHaveLength(1);
    await stack.destroy();
  });

  it("external mode: the pods read the two Opaque Secrets by their documented keys, and no value is ignored", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        const deployment = new tunnels.TunnelDeployment("external", { displayName: "e2e-chart-external", routes: { mcp: "http://10.0.0.5:8080" } });
        return { helmValues: deployment.helmValues, kubernetesSecrets: deployment.kubernetesSecrets };
      },
    });
    const out = (await stack.up()).outputs;
    const { model, secrets } = chartModel();
    for (const secret of Object.values(out.kubernetesSecrets?.value as Record<string, { name: string; type: string; stringData: Record<string, string> }>)) {
      secrets.set(secret.name, { type: secret.type, data: secret.stringData });
    }
    const install = await model.install(out.helmValues?.value as Record<string, unknown>);
    expect(install.mode).toBe("external");
    expect(install.ignored).toEqual([]);
    expect(install.warnings).toEqual([]);
    expect(install.cronJob).toBeUndefined();
    expect(install.secretReads.map((read) => `${read.secret}/${read.key}`).sort()).toEqual(["mcp-tunnel-cert/tls.crt", "mcp-tunnel-cert/tls.key", "mcp-tunnel-token/tunnel-token"]);
    expect(install.pod.phase).toBe("Running");

    // Keys this package emitted before, held against the same chart: ignored, which is why they are gone.
    const legacy = chartModel();
    for (const [name, secret] of secrets) legacy.secrets.set(name, secret);
    const report = await legacy.model.install({ ...(out.helmValues?.value as object), podAnnotations: { a: "b" }, serverCert: { renewBefore: "720h" } });
    expect(report.ignored.map((entry) => entry.key).sort()).toEqual(["podAnnotations", "serverCert.renewBefore"]);
    await stack.destroy();
  });
});
