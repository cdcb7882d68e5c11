import * as pulumi from "@pulumi/pulumi";
import { renderComposeEnv, renderComposeFiles } from "../deploy/compose";
import type { DeploymentFacts } from "../deploy/deployment-facts";
import { renderHelmValues, renderKubernetesSecrets, secretsChecksum } from "../deploy/helm-values";
import { mcpServerUrls, renderProxyConfig } from "../deploy/proxy-config";
import type { KeyAlgorithm } from "../pki/key-algorithm";
import { SERVER_CERTIFICATE_DEFAULTS } from "../schemas/server-certificate";
import { COMPONENT_TYPE, tunnelDeploymentSchema, type RouteSpec, type TunnelDeploymentSettings } from "../schemas/tunnel-deployment";
import { CertificateAuthority } from "./certificate-authority";
import { FederationRuleBinding } from "./federation-rule-binding";
import { ServerCertificate } from "./server-certificate";
import { Tunnel } from "./tunnel";
import { TunnelCertificate } from "./tunnel-certificate";
import { TunnelToken } from "./tunnel-token";

/** A values tree, typed as Helm and Kubernetes providers take it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StructuredValues = { [key: string]: any };

interface CertificatePolicy {
  keyAlgorithm?: KeyAlgorithm;
  validityDays?: number;
  renewBeforeDays?: number;
  rotation?: string | number;
}

export interface TunnelDeploymentArgs {
  mode?: "manual" | "programmatic";
  displayName: string;
  adoptTunnelId?: string;
  /** Subdomain → `scheme://host:port`, or `{ upstream, mcpPath }`. */
  routes: Record<string, string | { upstream: string; mcpPath?: string }>;
  allowedIps?: string[];
  logLevel?: "debug" | "info" | "warn" | "error";
  listenAddr?: string;
  tlsDir?: string;
  ca?: CertificatePolicy;
  serverCertificate?: CertificatePolicy;
  token?: { rotation?: string | number; rotateEveryDays?: number; reason?: string };
  federationRuleId?: string;
  workspaceId?: string;
  workspaceRole?: "workspace_developer" | "workspace_restricted_developer" | "workspace_admin";
  audience?: string;
  tunnelTokenSecretName?: string;
  serverCertSecretName?: string;
}

/** Thrown at program time (so at preview) for settings that cannot make a working deployment. */
export class TunnelDeploymentSettingsError extends Error {
  override readonly name = "TunnelDeploymentSettingsError";
  constructor(readonly problems: { property: string; reason: string }[]) {
    super(`TunnelDeployment settings are invalid:\n${problems.map((p) => `  - ${p.property}: ${p.reason}`).join("\n")}`);
  }
}

/**
 * Everything the tunnel stack needs, wired in the order rotations require: a new CA is
 * registered before the server certificate is re-issued from it, and the old registration is
 * archived last. Outputs feed the Helm chart and the Compose deployment directly.
 */
export class TunnelDeployment extends pulumi.ComponentResource {
  readonly tunnel: Tunnel;
  readonly tunnelId: pulumi.Output<string>;
  readonly domain: pulumi.Output<string>;
  readonly helmValues: pulumi.Output<StructuredValues>;
  readonly kubernetesSecrets: pulumi.Output<StructuredValues>;
  readonly secretsChecksum: pulumi.Output<string>;
  readonly composeEnv: pulumi.Output<string>;
  readonly composeFiles: pulumi.Output<Record<string, string>>;
  readonly proxyConfig: pulumi.Output<string>;
  readonly mcpServerUrls: pulumi.Output<Record<string, string>>;
  readonly certificateAuthority?: CertificateAuthority;
  readonly serverCertificate?: ServerCertificate;
  readonly tunnelCertificate?: TunnelCertificate;
  readonly tunnelToken?: TunnelToken;
  readonly federationRuleBinding?: FederationRuleBinding;

  constructor(name: string, args: TunnelDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COMPONENT_TYPE, name, {}, opts);
    const settings = validated(args);
    const child = { parent: this };

    this.tunnel = new Tunnel(`${name}-tunnel`, { displayName: settings.displayName, ...(settings.adoptTunnelId ? { adoptTunnelId: settings.adoptTunnelId } : {}) }, child);
    const routes = normalizedRoutes(settings);
    const base = {
      mode: settings.mode,
      routes,
      allowedIps: settings.allowedIps ?? [],
      logLevel: settings.logLevel,
      listenAddr: settings.listenAddr,
      tlsDir: settings.tlsDir,
      secretNames: { tunnelToken: settings.tunnelTokenSecretName, serverCert: settings.serverCertSecretName },
    };

    let facts: pulumi.Output<DeploymentFacts>;
    if (settings.mode === "manual") {
      this.certificateAuthority = new CertificateAuthority(`${name}-ca`, { ...(settings.ca ?? {}) }, child);
      this.tunnelCertificate = new TunnelCertificate(`${name}-ca-registration`, { tunnelId: this.tunnel.tunnelId, caCertificatePem: this.certificateAuthority.certificatePem }, child);
      // Issued only once its CA is registered, so the proxy never serves a certificate Anthropic cannot verify.
      this.serverCertificate = new ServerCertificate(
        `${name}-server-certificate`,
        {
          caCertificatePem: this.certificateAuthority.certificatePem,
          caPrivateKeyPem: this.certificateAuthority.privateKeyPem,
          domain: this.tunnel.domain,
          ...(settings.serverCertificate ?? {}),
        },
        { ...child, dependsOn: [this.tunnelCertificate] },
      );
      this.tunnelToken = new TunnelToken(`${name}-token`, { tunnelId: this.tunnel.tunnelId, ...(settings.token ?? {}) }, child);
      const renewBeforeDays = settings.serverCertificate?.renewBeforeDays ?? SERVER_CERTIFICATE_DEFAULTS.renewBeforeDays;
      facts = pulumi
        .all([this.tunnel.tunnelId, this.tunnel.domain, this.tunnelToken.token, this.tunnelToken.tokenId, this.serverCertificate.certificatePem, this.serverCertificate.privateKeyPem, this.serverCertificate.fingerprint])
        .apply(([tunnelId, domain, token, tokenId, certificatePem, privateKeyPem, fingerprint]) => ({
          ...base,
          tunnelId,
          domain,
          tokenVersion: tokenId,
          token: { value: token, id: tokenId },
          serverCertificate: { certificatePem, privateKeyPem, fingerprint, renewBeforeDays },
        }));
    } else {
      this.federationRuleBinding = new FederationRuleBinding(
        `${name}-wif`,
        { federationRuleId: settings.federationRuleId!, workspaceId: settings.workspaceId!, ...(settings.workspaceRole ? { workspaceRole: settings.workspaceRole } : {}) },
        child,
      );
      const binding = this.federationRuleBinding;
      facts = pulumi
        .all([this.tunnel.tunnelId, this.tunnel.domain, binding.federationRuleId, binding.organizationId, binding.workspaceId])
        .apply(([tunnelId, domain, federationRuleId, organizationId, workspaceId]) => ({
          ...base,
          tunnelId,
          domain,
          tokenVersion: String(settings.token?.rotation ?? "1"),
          wif: { federationRuleId, organizationId, workspaceId, audience: settings.audience },
        }));
    }

    this.tunnelId = this.tunnel.tunnelId;
    this.domain = this.tunnel.domain;
    // Helm values reference secrets by name only, so they are shown and diffed in plain text.
    this.helmValues = pulumi.unsecret(facts.apply((f): StructuredValues => renderHelmValues(f)));
    this.kubernetesSecrets = pulumi.secret(facts.apply((f): StructuredValues => renderKubernetesSecrets(f)));
    this.secretsChecksum = pulumi.unsecret(facts.apply(secretsChecksum));
    this.composeEnv = pulumi.secret(facts.apply(renderComposeEnv));
    this.composeFiles = pulumi.secret(facts.apply(renderComposeFiles));
    this.proxyConfig = pulumi.unsecret(facts.apply(renderProxyConfig));
    this.mcpServerUrls = pulumi.unsecret(facts.apply(mcpServerUrls));

    this.registerOutputs({
      tunnelId: this.tunnelId,
      domain: this.domain,
      helmValues: this.helmValues,
      kubernetesSecrets: this.kubernetesSecrets,
      secretsChecksum: this.secretsChecksum,
      composeEnv: this.composeEnv,
      composeFiles: this.composeFiles,
      proxyConfig: this.proxyConfig,
      mcpServerUrls: this.mcpServerUrls,
    });
  }
}

function validated(args: TunnelDeploymentArgs): TunnelDeploymentSettings {
  const { settings, problems } = checkTunnelDeploymentSettings(args);
  if (problems.length > 0 || !settings) throw new TunnelDeploymentSettingsError(problems);
  return settings;
}

/** Validates settings as the constructor does (at program time, so at preview), without throwing. */
export function checkTunnelDeploymentSettings(args: unknown): { settings?: TunnelDeploymentSettings; problems: { property: string; reason: string }[] } {
  const result = tunnelDeploymentSchema.inputs.safeParse(args, { reportInput: false });
  const problems = result.success ? [] : result.error.issues.map((issue) => ({ property: issue.path.map(String).join(".") || "(settings)", reason: issue.message }));
  const settings = result.success ? result.data : undefined;
  if (settings?.mode === "programmatic") {
    if (!settings.federationRuleId) problems.push({ property: "federationRuleId", reason: "programmatic mode needs the console-created federation rule (fdrl_…) with scope workspace:manage_tunnels" });
    if (!settings.workspaceId) problems.push({ property: "workspaceId", reason: "programmatic mode needs the tunnel's workspace id (wrkspc_…)" });
  }
  return settings && problems.length === 0 ? { settings, problems } : { problems };
}

function normalizedRoutes(settings: TunnelDeploymentSettings): Record<string, RouteSpec> {
  return Object.fromEntries(
    Object.entries(settings.routes).map(([subdomain, route]) => [subdomain, typeof route === "string" ? { upstream: route, mcpPath: "/mcp" } : route]),
  );
}
