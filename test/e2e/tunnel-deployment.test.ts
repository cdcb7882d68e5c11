import * as fs from "node:fs";
import * as path from "node:path";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tunnels from "pulumi-mcp-tunnels";
import { TestEmulator } from "../harness/emulator";
import { expectEmptyPlan, previewPlan, stepFor } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator?.close());

const ROUTES = { mcp: "http://10.0.0.6:8080", docs: { upstream: "http://10.0.0.7:8080", mcpPath: "/v1/mcp" } };

/**
 * A stand-in for the proxy's TLS listener: it rereads tls.crt/tls.key on every handshake. Between
 * the key's rename and the certificate's, the pair on disk does not match; like a hot-reloading
 * proxy, it keeps serving the last pair that does.
 */
async function startProxyListener(dataDir: string): Promise<{ port: number; close(): Promise<void> }> {
  const load = () => tls.createSecureContext({ cert: fs.readFileSync(path.join(dataDir, "data/tls.crt")), key: fs.readFileSync(path.join(dataDir, "data/tls.key")) });
  let current = load();
  const context = () => {
    try {
      current = load();
    } catch {
      // The new key is in place, its certificate not yet.
    }
    return current;
  };
  const server = tls.createServer({ SNICallback: (_name, done) => done(null, context()) }, (socket) => socket.end());
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

type Probe = { ok: boolean; ca_fingerprint?: string; reason?: string };

describe("TunnelDeployment in manual mode on the real engine", () => {
  it("writes a compose directory whose certificate passes Anthropic's probe for every route, through a CA rotation without a failed probe", async () => {
    const settings = { caRotation: 1, tokenRotation: "1" };
    const hermetic = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        const deployment = new tunnels.TunnelDeployment("quickstart", {
          displayName: "e2e-deployment",
          routes: ROUTES,
          allowedIps: ["10.0.0.0/8"],
          ca: { rotation: settings.caRotation },
          token: { rotation: settings.tokenRotation },
        });
        new tunnels.DeploymentDirectory("compose-dir", tunnels.DeploymentDirectory.forProject(path.join(hermetic.dir, "compose"), deployment.composeProject));
        return {
          tunnelId: deployment.tunnelId,
          domain: deployment.domain,
          helmValues: deployment.helmValues,
          proxyConfig: deployment.proxyConfig,
          mcpServerUrls: deployment.mcpServerUrls,
          secretsChecksum: deployment.secretsChecksum,
          composeEnv: deployment.composeEnv,
          kubernetesSecrets: deployment.kubernetesSecrets,
        };
      },
    });
    const { stack } = hermetic;
    const compose = path.join(hermetic.dir, "compose");
    const up = await stack.up();
    const out = (name: string) => up.outputs[name]?.value;
    const tunnelId = out("tunnelId") as string;
    const domain = out("domain") as string;

    // The proxy mounts data/: it gets the certificate and key, never the tunnel token.
    expect(fs.readdirSync(path.join(compose, "data")).sort()).toEqual(["tls.crt", "tls.key"]);
    expect(fs.readFileSync(path.join(compose, "config/mcp-proxy.yaml"), "utf8")).toBe(out("proxyConfig"));
    expect(out("mcpServerUrls")).toEqual({ mcp: `https://mcp.${domain}/mcp`, docs: `https://docs.${domain}/v1/mcp` });
    // External mode reads no tunnel id, token version or renewal settings: none is emitted.
    expect(out("helmValues")).toEqual({
      setup: { enabled: false },
      external: { tunnelTokenSecretName: "mcp-tunnel-token", serverCertSecretName: "mcp-tunnel-cert" },
      gateway: { config: { tunnel_domain: domain, routes: { mcp: ROUTES.mcp, docs: ROUTES.docs.upstream }, upstream: { allowed_ips: ["10.0.0.0/8"] }, log_level: "info" } },
    });
    expect(up.outputs.helmValues?.secret).toBe(false);
    expect(up.outputs.composeEnv?.secret).toBe(true);
    expect(up.outputs.kubernetesSecrets?.secret).toBe(true);
    const envToken = (dir: string) => /^TUNNEL_TOKEN=(.+)$/m.exec(fs.readFileSync(path.join(dir, ".env"), "utf8"))?.[1];
    const token = envToken(compose)!;
    expect(token).toMatch(/\S/);
    expect(out("composeEnv")).toContain(`TUNNEL_TOKEN=${token}`);
    expect(out("kubernetesSecrets")).toMatchObject({ tunnelToken: { type: "Opaque", stringData: { "tunnel-token": token } }, serverCert: { type: "Opaque" } });
    expect(Object.keys((out("kubernetesSecrets") as { serverCert: { stringData: object } }).serverCert.stringData).sort()).toEqual(["tls.crt", "tls.key"]);
    for (const name of ["helmValues", "proxyConfig", "mcpServerUrls", "secretsChecksum", "tunnelId", "domain"]) {
      const text = JSON.stringify(out(name));
      expect(text, name).not.toContain(token);
      expect(text, name).not.toContain("PRIVATE KEY");
    }
    await expectEmptyPlan(stack);

    const listener = await startProxyListener(compose);
    const probe = (route: string) => emulator.control<Probe>("POST", "/_emulator/probe", { tunnel_id: tunnelId, host: "127.0.0.1", port: listener.port, route });
    try {
      for (const route of Object.keys(ROUTES)) expect(await probe(route)).toMatchObject({ ok: true });
      const firstCa = (await probe("mcp")).ca_fingerprint;

      settings.caRotation = 2;
      const results: Probe[] = [];
      let rotating = true;
      const loop = (async () => {
        while (rotating) {
          results.push(await probe("mcp"));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      await stack.up();
      rotating = false;
      await loop;
      results.push(await probe("mcp"));
      expect(results.length).toBeGreaterThan(5);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(results.at(-1)?.ca_fingerprint).not.toBe(firstCa);
      expect(await emulator.activeCertificates(tunnelId)).toHaveLength(1);
    } finally {
      await listener.close();
    }

    const before = (await stack.outputs()).secretsChecksum?.value;
    settings.tokenRotation = "2";
    const plan = await previewPlan(stack);
    expect(stepFor(plan, "quickstart-token").op).toBe("update");
    expect(stepFor(plan, "compose-dir").op).toBe("update");
    const rotated = await stack.up();
    const newToken = envToken(compose)!;
    expect(newToken).not.toBe(token);
    expect(rotated.outputs.composeEnv?.value).toContain(`TUNNEL_TOKEN=${newToken}`);
    expect(rotated.outputs.secretsChecksum?.value).not.toBe(before);
    expect(hermetic.stateAtRest()).not.toContain(newToken);
    await stack.destroy();
    expect((await emulator.tunnels()).map((t) => t.id)).not.toContain(tunnelId);
  });

  it("refuses routes the proxy would refuse, at preview, naming the route and the fix", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        new tunnels.TunnelDeployment("bad", { displayName: "e2e-bad-routes", routes: { mcp: "http://10.0.0.5", Docs: "http://10.0.0.5:80/path" } });
      },
    });
    await emulator.control("DELETE", "/_emulator/requests");
    const failure = previewPlan(stack);
    await expect(failure).rejects.toThrow(/routes\.mcp: upstream needs an explicit port/);
    await expect(failure).rejects.toThrow(/route names must be a DNS label/);
    expect(await emulator.mutatingRequests()).toEqual([]);
  });
});

describe("TunnelDeployment in programmatic mode on the real engine", () => {
  it("binds the federation rule and hands the chart WIF values instead of secrets", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        const deployment = new tunnels.TunnelDeployment("wif", {
          mode: "programmatic",
          displayName: "e2e-programmatic",
          routes: { mcp: "http://10.0.0.5:8080" },
          federationRuleId: "fdrl_tunnels",
          workspaceId: "wrkspc_platform",
        });
        return { helmValues: deployment.helmValues, composeEnv: deployment.composeEnv };
      },
    });
    const up = await stack.up();
    expect(up.outputs.helmValues?.value).toEqual({
      setup: { enabled: true, force: true },
      tunnel: { id: expect.stringMatching(/^tnl_/), tokenVersion: "1" },
      api: { wif: { federationRuleId: "fdrl_tunnels", organizationId: "6f1c7a52-0000-4000-8000-00000000e001", workspaceId: "wrkspc_platform", audience: "api.anthropic.com" } },
      serverCert: { renewBefore: "720h" },
      // Managed mode: the chart injects the domain from its Secret, so no tunnel_domain here.
      gateway: { config: { routes: { mcp: "http://10.0.0.5:8080" }, log_level: "info" } },
    });
    expect(up.outputs.helmValues?.value).not.toHaveProperty("external");
    expect(up.outputs.composeEnv?.value).toContain("ANTHROPIC_FEDERATION_RULE_ID=fdrl_tunnels");
    expect(up.outputs.composeEnv?.value).not.toContain("TUNNEL_TOKEN");
    await expectEmptyPlan(stack);
    await stack.destroy();
  });
});
