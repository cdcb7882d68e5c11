import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { parse } from "yaml";
import { PRODUCTION_BASE_URL } from "../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../emulator/index";
import { checkServerCertificate, generateCertificateAuthority, issueServerCertificate } from "../core/pki";
import { TestEmulator, type AuditEntry } from "../test/harness/emulator";
import { ChartModel, ChartModelError, helmFullname, type ChartValues, type KubernetesSecret, type ModelCluster } from "./chart-model";
import { loopbackSubnet, NetworkNamespace, type OutsideWorld } from "./container";
import { startProxy, webSocketStream } from "./proxy";
import { createSetup } from "./setup";

// The setup hook's server key: the real setup makes RSA-4096, which the setup twin's own tests
// cover; here the key type does not matter and RSA generation is slow on a loaded machine.
const setup = createSetup({ serverKeyAlgorithm: "ECDSA_P256" });

const emulator = TestEmulator.forFile({ resetBeforeEach: true });
let scratch: string;

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "chart-model-"));
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

function outside(): OutsideWorld {
  return {
    edgeUrl: "ws://127.0.0.1:9/unused",
    rewriteUrl: (url) => {
      if (url.replace(/\/$/, "") === PRODUCTION_BASE_URL) return emulator.baseUrl;
      throw new Error(`dialled ${url}, which is not the API`);
    },
  };
}

/** A cluster whose service-account tokens come from the emulator's OIDC issuer, which the fixture's rule trusts. */
function cluster(): ModelCluster {
  return {
    secrets: new Map<string, KubernetesSecret>(),
    serviceAccountToken: async (sub, aud) => (await emulator.control<{ id_token: string }>("POST", "/_emulator/oidc/token", { sub, aud, ttl_seconds: 3600 })).id_token,
  };
}

function chart(options: { release?: string; namespace?: string; cluster?: ModelCluster } = {}): { model: ChartModel; cluster: ModelCluster } {
  const theCluster = options.cluster ?? cluster();
  const model = new ChartModel({ release: options.release ?? "mcp-tunnel", namespace: options.namespace ?? "mcp-tunnel", cluster: theCluster, outside: outside(), setup });
  return { model, cluster: theCluster };
}

function merge(base: ChartValues, patch: ChartValues): ChartValues {
  const result: ChartValues = structuredClone(base);
  for (const [key, value] of Object.entries(patch)) {
    const current = result[key];
    result[key] =
      typeof value === "object" && value !== null && !Array.isArray(value) && typeof current === "object" && current !== null && !Array.isArray(current)
        ? merge(current as ChartValues, value as ChartValues)
        : value;
  }
  return result;
}

const ROUTES = { echo: "http://10.0.0.5:9000" };

/** Managed values as the docs' step 3 writes them; the fixture's rule lists several workspaces, so workspaceId is needed. */
const managed = (patch: ChartValues = {}): ChartValues =>
  merge(
    {
      setup: { enabled: true },
      tunnel: { tokenVersion: "1" },
      api: { wif: { federationRuleId: EMULATOR_FIXTURE.tunnelsRuleId, organizationId: EMULATOR_FIXTURE.organizationId, workspaceId: EMULATOR_FIXTURE.defaultWorkspaceId } },
      gateway: { config: { routes: ROUTES, log_level: "info" } },
    },
    patch,
  );

const actions = async (action: string): Promise<AuditEntry[]> => (await emulator.audit()).filter((entry) => entry.action === action);
const connect = (token: string) => emulator.control<{ ok: boolean; reason?: string }>("POST", "/_emulator/connect", { tunnel_token: token });
const secretData = (theCluster: ModelCluster, name: string) => theCluster.secrets.get(name)?.data ?? {};

describe("managed mode (setup.enabled=true)", () => {
  it("install runs the pre-install setup hook, which creates exactly one tunnel, registers one CA and writes Secret <release>", async () => {
    const { model, cluster } = chart();
    const report = await model.install(managed());

    expect(report.mode).toBe("managed");
    expect(report.setupHook).toMatchObject({
      ran: true,
      job: "mcp-tunnel-setup",
      argv: ["init", "--api-url=https://api.anthropic.com", "--output=k8s-secret:mcp-tunnel", "--token-version=1"],
      exitCode: 0,
    });
    const tunnels = await emulator.tunnels();
    expect(tunnels).toHaveLength(1);
    expect(await emulator.activeCertificates(tunnels[0]!.id)).toHaveLength(1);
    expect(await actions("certificate.create")).toHaveLength(1);

    const secret = secretData(cluster, "mcp-tunnel");
    expect(Object.keys(secret)).toEqual(expect.arrayContaining(["tunnel-id", "tunnel-domain", "tunnel-token", "tls.crt", "tls.key"]));
    expect(secret["tunnel-id"]).toBe(tunnels[0]!.id);
    const domain = secret["tunnel-domain"]!;
    expect(domain).toBe((await emulator.api<{ domain: string }>("GET", `/v1/tunnels/${tunnels[0]!.id}`)).domain);
    expect(await connect(secret["tunnel-token"]!)).toMatchObject({ ok: true });

    expect(report.pod).toMatchObject({ phase: "Running", tokenCurrent: true });
    expect(report.pod.containers).toEqual([
      { name: "mcp-proxy", argv: ["-tunnel-domain", domain], env: [] },
      { name: "cloudflared", argv: ["tunnel", "--no-autoupdate", "run", "--url", "http://localhost:8080"], env: ["TUNNEL_TOKEN"] },
    ]);
    expect(report.secretReads).toEqual([
      { container: "mcp-proxy", secret: "mcp-tunnel", key: "tunnel-domain", as: "flag -tunnel-domain" },
      { container: "mcp-proxy", secret: "mcp-tunnel", key: "tls.crt", as: "file /etc/mcp-gateway/tls/tls.crt" },
      { container: "mcp-proxy", secret: "mcp-tunnel", key: "tls.key", as: "file /etc/mcp-gateway/tls/tls.key" },
      { container: "cloudflared", secret: "mcp-tunnel", key: "tunnel-token", as: "env TUNNEL_TOKEN" },
    ]);
    expect(report.cronJob).toEqual({
      name: "mcp-tunnel-cert-renew",
      schedule: "0 0 * * *",
      renewBefore: "720h",
      argv: ["renew-cert", "--output=k8s-secret:mcp-tunnel", "--renew-before=720h"],
    });
    expect(report.proxyConfig).toEqual({
      routes: ROUTES,
      log_level: "info",
      listen_addr: ":8080",
      tls: { cert_file: "/etc/mcp-gateway/tls/tls.crt", key_file: "/etc/mcp-gateway/tls/tls.key" },
    });
    expect(report.ignored).toEqual([]);
    expect(report.warnings).toEqual([]);
  });

  it("upgrade without setup.force does not run the hook: no API call, and the token in the Secret is unchanged", async () => {
    const { model, cluster } = chart();
    await model.install(managed());
    const token = secretData(cluster, "mcp-tunnel")["tunnel-token"];
    await emulator.control("DELETE", "/_emulator/requests");

    const report = await model.upgrade(managed({ tunnel: { tokenVersion: "2" } }));
    expect(report.setupHook).toEqual({ ran: false, reason: "setup.force is not true: the setup hook does not re-run on upgrade" });
    expect(await emulator.requests()).toEqual([]);
    expect(secretData(cluster, "mcp-tunnel")["tunnel-token"]).toBe(token);
  });

  it("upgrade with tokenVersion 2 and setup.force rotates the token once, creates no second tunnel, and leaves the pod on the old token until a rollout restart", async () => {
    const { model, cluster } = chart();
    await model.install(managed());
    const oldToken = secretData(cluster, "mcp-tunnel")["tunnel-token"]!;

    const report = await model.upgrade(managed({ tunnel: { tokenVersion: "2" }, setup: { force: true } }));
    expect(report.setupHook).toMatchObject({ ran: true, argv: expect.arrayContaining(["--token-version=2"]), changedKeys: ["tunnel-token", "token-version"].sort() });
    const newToken = secretData(cluster, "mcp-tunnel")["tunnel-token"]!;
    expect(newToken).not.toBe(oldToken);
    expect(await actions("token.rotate")).toHaveLength(1);
    expect(await connect(oldToken)).toEqual({ ok: false, reason: "rotated" });
    expect(await connect(newToken)).toMatchObject({ ok: true });
    expect(await emulator.tunnels()).toHaveLength(1);
    expect(await actions("tunnel.create")).toHaveLength(1);
    expect(await actions("certificate.create")).toHaveLength(1);

    expect(report.podRestarted).toBe(false);
    expect(report.pod.tokenCurrent).toBe(false);
    expect(report.notes.join("\n")).toContain("run kubectl rollout restart deploy/mcp-tunnel");

    const restarted = model.rolloutRestart();
    expect(restarted.templateRevision).toBe(report.deploymentRevision + 1);
    expect(restarted.tokenCurrent).toBe(true);
    expect(model.materialisePod(path.join(scratch, "pod")).containers.cloudflared.env).toEqual({ TUNNEL_TOKEN: newToken });
  });

  it("setup.force with an unchanged tokenVersion runs the hook, which reuses everything and does not rotate", async () => {
    const { model, cluster } = chart();
    await model.install(managed());
    const before = { ...secretData(cluster, "mcp-tunnel") };

    const report = await model.upgrade(managed({ setup: { force: true } }));
    expect(report.setupHook).toMatchObject({ ran: true, exitCode: 0, changedKeys: [] });
    expect(report.setupHook.ran && report.setupHook.log.join("\n")).toContain("token version 1 unchanged; not rotating");
    expect(await actions("token.rotate")).toHaveLength(0);
    expect(await actions("tunnel.create")).toHaveLength(1);
    expect(secretData(cluster, "mcp-tunnel")).toEqual(before);
  });

  it("a config change rolls the pod, as do a pod-template annotation patch and a rollout restart; an identical upgrade does not", async () => {
    const { model } = chart();
    const installed = await model.install(managed());
    expect(installed.deploymentRevision).toBe(1);

    const same = await model.upgrade(managed());
    expect({ restarted: same.podRestarted, revision: same.deploymentRevision }).toEqual({ restarted: false, revision: 1 });

    const rerouted = await model.upgrade(managed({ gateway: { config: { routes: { ...ROUTES, docs: "http://10.0.0.6:8000" } } } }));
    expect({ restarted: rerouted.podRestarted, revision: rerouted.deploymentRevision }).toEqual({ restarted: true, revision: 2 });

    const patched = model.patchPodTemplateAnnotations({ "example.com/reason": "rotate" });
    expect(patched.templateRevision).toBe(3);
    expect(model.patchPodTemplateAnnotations({ "example.com/reason": "rotate" }).templateRevision).toBe(3);
    expect(model.rolloutRestart().templateRevision).toBe(4);
  });

  it("the cert-renew CronJob re-signs the server certificate with the stored CA without any API call, and the proxy's Secret volume picks it up", async () => {
    const { model, cluster } = chart();
    await model.install(managed({ serverCert: { renewBefore: "2200h" } }));
    const pod = model.materialisePod(path.join(scratch, "pod"));
    const { "ca.crt": ca, "tls.crt": oldCert, "tunnel-domain": domain } = secretData(cluster, "mcp-tunnel") as Record<"ca.crt" | "tls.crt" | "tunnel-domain", string>;
    await emulator.control("DELETE", "/_emulator/requests");

    const run = await model.runCertRenewal();
    expect(run.exitCode, run.log.join("\n")).toBe(0);
    expect(await emulator.requests()).toEqual([]);
    const newCert = secretData(cluster, "mcp-tunnel")["tls.crt"]!;
    expect(newCert).not.toBe(oldCert);
    expect(secretData(cluster, "mcp-tunnel")["ca.crt"]).toBe(ca);
    expect(await checkServerCertificate({ certificate: newCert, trustedCaPems: [ca], hostname: `echo.${domain}`, now: new Date() })).toMatchObject({ ok: true });

    const mounted = pod.containers["mcp-proxy"].fs;
    expect(mounted.readFile("/etc/mcp-gateway/tls/tls.crt").toString()).toBe(oldCert);
    pod.syncSecretVolumes();
    expect(mounted.readFile("/etc/mcp-gateway/tls/tls.crt").toString()).toBe(newCert);
  });

  it("the cert-renew CronJob with the default 30-day window leaves a fresh certificate alone", async () => {
    const { model, cluster } = chart();
    await model.install(managed());
    const cert = secretData(cluster, "mcp-tunnel")["tls.crt"];
    const run = await model.runCertRenewal();
    expect(run.exitCode).toBe(0);
    expect(run.log.join("\n")).toContain("outside the renewal window; nothing to do");
    expect(secretData(cluster, "mcp-tunnel")["tls.crt"]).toBe(cert);
  });

  it.each([["federationRuleId"], ["organizationId"]])("install without api.wif.%s fails before any Job runs", async (key) => {
    const { model } = chart();
    const values = managed({ api: { wif: { [key]: null } } });
    await expect(model.install(values)).rejects.toMatchObject({ code: "VALUE_REQUIRED", message: `api.wif.${key} is required in managed mode (setup.enabled=true)` });
    expect(await emulator.requests()).toEqual([]);
  });

  it.each([
    ["the namespace differs from the rule's subject prefix", { namespace: "tunnels" }, {}, "subject_mismatch"],
    ["api.wif.audience carries a scheme the rule does not", {}, { api: { wif: { audience: "https://api.anthropic.com" } } }, "audience_mismatch"],
  ])("when %s, the hook fails with 401 and the install is blocked until uninstall and kubectl delete job", async (_case, where, patch, reason) => {
    const { model } = chart(where);
    const failure = await model.install(managed(patch)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ChartModelError);
    expect(failure).toMatchObject({ code: "HOOK_FAILED" });
    expect((failure as ChartModelError).message).toContain("pre-install hook failed: job mcp-tunnel-setup exited 1: error: POST /v1/oauth/token: 401");
    expect((await actions("oauth.denied")).map((entry) => entry.detail["reason"])).toEqual([reason]);
    expect(await emulator.tunnels()).toEqual([]);

    await expect(model.install(managed())).rejects.toMatchObject({ code: "RELEASE_EXISTS" });
    model.uninstall();
    await expect(model.install(managed())).rejects.toMatchObject({ code: "JOB_EXISTS", message: 'jobs.batch "mcp-tunnel-setup" already exists' });
  });

  it("the setup Job's service account is <fullname>-setup in the release namespace, and fullname follows Helm's convention", () => {
    expect(chart().model.setupSubject).toBe("system:serviceaccount:mcp-tunnel:mcp-tunnel-setup");
    expect(chart({ release: "prod", namespace: "edge" }).model.setupSubject).toBe("system:serviceaccount:edge:prod-mcp-tunnel-setup");
    expect(helmFullname("mcp-tunnel-eu")).toBe("mcp-tunnel-eu");
  });

  it("after uninstall, Secret <release> survives and a fresh install reuses its tunnel instead of creating one", async () => {
    const { model, cluster } = chart();
    await model.install(managed());
    const tunnelId = secretData(cluster, "mcp-tunnel")["tunnel-id"];
    model.uninstall();
    expect(secretData(cluster, "mcp-tunnel")["tunnel-id"]).toBe(tunnelId);

    await model.install(managed());
    expect(await actions("tunnel.create")).toHaveLength(1);
    expect(secretData(cluster, "mcp-tunnel")["tunnel-id"]).toBe(tunnelId);
  });

  it("warns when tunnel.id changes on an upgrade without setup.force, since the pods keep the stored tunnel", async () => {
    const { model } = chart();
    await model.install(managed());
    const { id: other } = await emulator.api<{ id: string }>("POST", "/v1/tunnels", {});
    const report = await model.upgrade(managed({ tunnel: { id: other } }));
    expect(report.setupHook.ran).toBe(false);
    expect(report.warnings.join("\n")).toContain(`tunnel.id is ${other} but Secret mcp-tunnel holds`);
  });

  it("the pod's mcp-proxy container starts the proxy twin, which serves inner TLS for <route>.<domain> with the certificate from Secret <release>", async () => {
    const { model, cluster } = chart();
    await model.install(managed());
    const { "ca.crt": ca, "tunnel-domain": domain } = secretData(cluster, "mcp-tunnel") as Record<"ca.crt" | "tunnel-domain", string>;
    const container = model.materialisePod(path.join(scratch, "pod")).containers["mcp-proxy"];
    const address = loopbackSubnet()(0);
    const log: string[] = [];
    let listening!: () => void;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const proxy = await startProxy({
      argv: container.argv,
      env: container.env,
      fs: container.fs,
      net: new NetworkNamespace(address, new Map()),
      outside: outside(),
      log: (line) => {
        log.push(line);
        if (line.includes('msg=listening')) listening();
      },
    });
    try {
      await Promise.race([ready, proxy.exited.then((code) => Promise.reject(new Error(`proxy exited ${code}: ${log.join("\n")}`)))]);
      expect(log.join("\n")).toContain(`host=echo.${domain}`);
      const ws = new WebSocket(`ws://${address}:8080`);
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      const secure = tls.connect({ socket: webSocketStream(ws), servername: `echo.${domain}`, ca, ALPNProtocols: ["http/1.1"] });
      await new Promise((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
      expect(secure.getPeerX509Certificate()?.subject).toContain(`CN=${domain}`);
      secure.destroy();
    } finally {
      await proxy.stop();
    }
  });

  it("warns about gateway.config.tunnel_domain next to the flag the chart injects", async () => {
    const { model } = chart();
    const report = await model.install(managed({ gateway: { config: { tunnel_domain: "stale0000.tunnel.anthropic.com" } } }));
    expect(report.warnings.join("\n")).toContain("gateway.config.tunnel_domain is set in managed mode");
  });
});

describe("external mode (setup.enabled=false)", () => {
  /** What the docs' manual flow makes: a tunnel, its token, a registered CA and a server certificate from it. */
  async function manualCredentials() {
    const tunnel = await emulator.api<{ id: string; domain: string }>("POST", "/v1/tunnels", {});
    const token = (await emulator.api<{ tunnel_token: string }>("POST", `/v1/tunnels/${tunnel.id}/reveal_token`)).tunnel_token;
    const ca = await generateCertificateAuthority({ commonName: "manual CA", keyAlgorithm: "ECDSA_P256", validityDays: 365, now: new Date() });
    await emulator.api("POST", `/v1/tunnels/${tunnel.id}/certificates`, { ca_certificate_pem: ca.certificatePem });
    const server = await issueServerCertificate({
      caCertificatePem: ca.certificatePem,
      caPrivateKeyPem: ca.privateKeyPem,
      domain: tunnel.domain,
      keyAlgorithm: "ECDSA_P256",
      validityDays: 90,
      now: new Date(),
    });
    return { tunnel, token, ca, server };
  }

  const external = (domain: string, patch: ChartValues = {}): ChartValues =>
    merge(
      {
        setup: { enabled: false },
        external: { tunnelTokenSecretName: "mcp-tunnel-token", serverCertSecretName: "mcp-tunnel-cert" },
        gateway: { config: { tunnel_domain: domain, routes: ROUTES } },
      },
      patch,
    );

  function createSecrets(theCluster: ModelCluster, credentials: Awaited<ReturnType<typeof manualCredentials>>, which: ("token" | "cert")[] = ["token", "cert"]) {
    if (which.includes("token")) theCluster.secrets.set("mcp-tunnel-token", { type: "Opaque", data: { "tunnel-token": credentials.token } });
    if (which.includes("cert")) theCluster.secrets.set("mcp-tunnel-cert", { type: "Opaque", data: { "tls.crt": credentials.server.certificatePem, "tls.key": credentials.server.privateKeyPem } });
  }

  it("reads tunnel-token and tls.crt/tls.key from the two named Secrets, makes no API call, and ignores serverCert.*, tunnel.id and api.wif.*", async () => {
    const credentials = await manualCredentials();
    const { model, cluster } = chart();
    createSecrets(cluster, credentials);
    await emulator.control("DELETE", "/_emulator/requests");

    const report = await model.install(
      external(credentials.tunnel.domain, {
        serverCert: { renewBefore: "720h" },
        tunnel: { id: credentials.tunnel.id },
        api: { wif: { federationRuleId: EMULATOR_FIXTURE.tunnelsRuleId } },
      }),
    );
    expect(await emulator.requests()).toEqual([]);
    expect(report.mode).toBe("external");
    expect(report.setupHook).toEqual({ ran: false, reason: "external mode has no setup Job" });
    expect(report.cronJob).toBeUndefined();
    expect(report.ignored.map((entry) => entry.key).sort()).toEqual(["api.wif.federationRuleId", "serverCert.renewBefore", "tunnel.id"]);
    expect(report.ignored.find((entry) => entry.key === "serverCert.renewBefore")?.reason).toContain("no cert-renew CronJob");
    expect(report.secretReads).toEqual([
      { container: "mcp-proxy", secret: "mcp-tunnel-cert", key: "tls.crt", as: "file /etc/mcp-gateway/tls/tls.crt" },
      { container: "mcp-proxy", secret: "mcp-tunnel-cert", key: "tls.key", as: "file /etc/mcp-gateway/tls/tls.key" },
      { container: "cloudflared", secret: "mcp-tunnel-token", key: "tunnel-token", as: "env TUNNEL_TOKEN" },
    ]);
    expect(report.proxyConfig["tunnel_domain"]).toBe(credentials.tunnel.domain);
    expect(report.warnings).toEqual([]);
    await expect(model.runCertRenewal()).rejects.toMatchObject({ code: "VALUE_REQUIRED" });

    const pod = model.materialisePod(path.join(scratch, "pod"));
    expect(pod.containers.cloudflared).toMatchObject({ argv: ["tunnel", "--no-autoupdate", "run", "--url", "http://localhost:8080"], env: { TUNNEL_TOKEN: credentials.token }, mounts: [] });
    const proxy = pod.containers["mcp-proxy"];
    expect(proxy.argv).toEqual([]);
    expect(proxy.env).toEqual({});
    expect(proxy.user).toEqual({ uid: 65532, gid: 65532 });
    expect(proxy.fs.readFile("/etc/mcp-gateway/tls/tls.key").toString()).toBe(credentials.server.privateKeyPem);
    const keyFile = proxy.fs.resolve("/etc/mcp-gateway/tls/tls.key")!.hostPath;
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o644);
    expect(parse(proxy.fs.readFile("/etc/mcp-gateway/config.yaml").toString())).toEqual(report.proxyConfig);
    expect(new X509Certificate(proxy.fs.readFile("/etc/mcp-gateway/tls/tls.crt")).subject).toContain(credentials.tunnel.domain);
  });

  it("pods fail until both Secrets exist, then start", async () => {
    const credentials = await manualCredentials();
    const { model, cluster } = chart();
    const report = await model.install(external(credentials.tunnel.domain));
    expect(report.pod).toMatchObject({ phase: "ContainerCreating", message: expect.stringContaining('secret "mcp-tunnel-cert" not found') });
    expect(() => model.materialisePod(path.join(scratch, "pod"))).toThrow(ChartModelError);

    createSecrets(cluster, credentials, ["cert"]);
    expect(model.currentPod()).toMatchObject({ phase: "CreateContainerConfigError", message: 'secret "mcp-tunnel-token" not found' });
    createSecrets(cluster, credentials, ["token"]);
    expect(model.currentPod()).toMatchObject({ phase: "Running", tokenCurrent: true });
  });

  it("warns about a kubernetes.io/tls Secret and extra keys, which Kubernetes accepts, but a renamed key keeps the pod from starting", async () => {
    const credentials = await manualCredentials();
    const { model, cluster } = chart();
    createSecrets(cluster, credentials);
    cluster.secrets.set("mcp-tunnel-cert", { type: "kubernetes.io/tls", data: { ...cluster.secrets.get("mcp-tunnel-cert")!.data, "ca.crt": credentials.ca.certificatePem } });
    const warned = await model.install(external(credentials.tunnel.domain));
    expect(warned.pod.phase).toBe("Running");
    expect(warned.warnings).toEqual([
      "Secret mcp-tunnel-cert has type kubernetes.io/tls; the docs create it as Opaque (kubectl create secret generic), and another type is not documented for this chart",
      "Secret mcp-tunnel-cert has keys the chart does not read: ca.crt; it reads only tls.crt, tls.key",
    ]);

    cluster.secrets.set("mcp-tunnel-token", { type: "Opaque", data: { token: credentials.token } });
    expect(model.replacePod()).toMatchObject({ phase: "CreateContainerConfigError", message: "couldn't find key tunnel-token in Secret mcp-tunnel/mcp-tunnel-token" });
  });

  it("an external-mode token update reaches the pod only at its next start", async () => {
    const credentials = await manualCredentials();
    const { model, cluster } = chart();
    createSecrets(cluster, credentials);
    await model.install(external(credentials.tunnel.domain));
    cluster.secrets.set("mcp-tunnel-token", { type: "Opaque", data: { "tunnel-token": "rotated-in-the-console" } });
    expect(model.currentPod().tokenCurrent).toBe(false);
    expect(model.rolloutRestart().tokenCurrent).toBe(true);
  });

  it.each([
    ["gateway.config.tunnel_domain", { gateway: { config: { tunnel_domain: null } } }],
    ["external.tunnelTokenSecretName", { external: { tunnelTokenSecretName: null } }],
    ["external.serverCertSecretName", { external: { serverCertSecretName: null } }],
  ])("install without %s fails", async (key, patch) => {
    const { model } = chart();
    await expect(model.install(external("abcd1234.tunnel.anthropic.com", patch))).rejects.toMatchObject({ code: "VALUE_REQUIRED", message: expect.stringContaining(`${key} is required in external mode`) });
  });
});

describe("values the chart does not document", () => {
  it("are reported ignored, with the chart-owned proxy fields, and the chart's listen_addr and tls paths win", async () => {
    const { model } = chart();
    const report = await model.install(
      managed({
        podAnnotations: { "checksum/secrets": "abc" },
        podLabels: { team: "platform" },
        image: { tag: "latest" },
        replicaCount: 3,
        resources: { limits: { cpu: "1" } },
        api: { wif: { tunnelId: "tnl_old" } },
        setup: { serviceAccountName: "custom" },
        gateway: { config: { listen_addr: ":9090", tls: { cert_file: "/data/tls.crt", key_file: "/data/tls.key" } } },
      }),
    );
    expect(report.ignored).toEqual([
      { key: "setup.serviceAccountName", reason: "not a documented value of chart 2.0.x" },
      { key: "api.wif.tunnelId", reason: "chart 1.x only: moved to tunnel.id in 2.0.0" },
      { key: "podAnnotations", reason: "not a documented value of chart 2.0.x" },
      { key: "podLabels", reason: "not a documented value of chart 2.0.x" },
      { key: "image", reason: "not a documented value of chart 2.0.x" },
      { key: "replicaCount", reason: "not a documented value of chart 2.0.x" },
      { key: "resources", reason: "not a documented value of chart 2.0.x" },
      { key: "gateway.config.listen_addr", reason: 'the chart always sets listen_addr to ":8080"' },
      { key: "gateway.config.tls.cert_file", reason: "the chart always sets tls to the mounted certificate under /etc/mcp-gateway/tls" },
      { key: "gateway.config.tls.key_file", reason: "the chart always sets tls to the mounted certificate under /etc/mcp-gateway/tls" },
    ]);
    expect(report.proxyConfig).toMatchObject({ listen_addr: ":8080", tls: { cert_file: "/etc/mcp-gateway/tls/tls.crt", key_file: "/etc/mcp-gateway/tls/tls.key" } });
  });

  it("a podAnnotations change does not roll the pod, since the chart does not document it", async () => {
    const { model } = chart();
    await model.install(managed({ podAnnotations: { "checksum/secrets": "1" } }));
    const report = await model.upgrade(managed({ podAnnotations: { "checksum/secrets": "2" } }));
    expect(report.podRestarted).toBe(false);
  });
});
