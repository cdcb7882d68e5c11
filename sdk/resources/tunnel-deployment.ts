import * as pulumi from "@pulumi/pulumi";
import { renderComposeEnv, renderComposeProject } from "../../core/deploy/compose-project";
import type { DeploymentFacts, UpstreamPolicy } from "../../core/deploy/deployment-facts";
import { renderHelmValues, renderKubernetesSecrets, secretsChecksum } from "../../core/deploy/helm-values";
import { mcpServerUrls, renderProxyConfig } from "../../core/deploy/proxy-config";
import type { ComposeProject } from "../../core/deploy/compose-project";
import type { SettableInputs } from "../../core/schemas/field";
import { SERVER_CERTIFICATE_DEFAULTS } from "../../core/schemas/server-certificate";
import {
  COMPONENT_TYPE,
  FULL_HOSTNAME_ROUTE_PATTERN,
  REMOVED_INPUTS,
  tunnelDeploymentSchema,
  type RouteSpec,
  type TunnelDeploymentSettings,
} from "../../core/schemas/tunnel-deployment";
import { CertificateAuthority } from "./certificate-authority";
import { FederationRuleBinding } from "./federation-rule-binding";
import { ServerCertificate } from "./server-certificate";
import { Tunnel } from "./tunnel";
import { TunnelCertificate } from "./tunnel-certificate";
import { TunnelToken } from "./tunnel-token";

/** A values tree, typed as Helm and Kubernetes providers take it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StructuredValues = { [key: string]: any };

/**
 * The component's settings, derived from its schema. Plain values, not Inputs: the component
 * validates and renders them at program time, so bad settings fail at preview.
 */
export type TunnelDeploymentArgs = SettableInputs<typeof tunnelDeploymentSchema>;

/**
 * Thrown at program time (so at preview) for settings that cannot make a working deployment. A
 * RunError, which Pulumi reports as its message alone: the problem is the settings, and a stack
 * trace through the program would only bury the fix.
 */
export class TunnelDeploymentSettingsError extends pulumi.RunError {
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
  readonly composeProject: pulumi.Output<ComposeProject>;
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
    const upstream: UpstreamPolicy = {
      ...(settings.allowedIps ? { allowedIps: settings.allowedIps } : {}),
      ...(settings.disableIpValidation !== undefined ? { disableIpValidation: settings.disableIpValidation } : {}),
      ...(settings.upstreamTls?.caCertificatePem ? { caCertificatePem: settings.upstreamTls.caCertificatePem } : {}),
      ...(settings.upstreamTls?.includeSystemCas !== undefined ? { includeSystemCas: settings.upstreamTls.includeSystemCas } : {}),
    };
    if (settings.mode === "programmatic" && upstream.caCertificatePem) {
      pulumi.log.warn("upstreamTls.caCertificatePem reaches the Compose proxy only: the chart documents no mount for an upstream CA bundle, so helmValues carries no ca_file", this);
    }
    const base = (domain: string) => ({
      mode: settings.mode,
      routes: routesByLabel(settings, domain),
      upstream,
      logLevel: settings.logLevel,
      images: settings.images,
      secretNames: { tunnelToken: settings.tunnelTokenSecretName, serverCert: settings.serverCertSecretName },
      renewBeforeDays: settings.serverCertificate?.renewBeforeDays ?? SERVER_CERTIFICATE_DEFAULTS.renewBeforeDays,
    });

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
      facts = pulumi
        .all([this.tunnel.tunnelId, this.tunnel.domain, this.tunnelToken.token, this.tunnelToken.tokenId, this.serverCertificate.certificatePem, this.serverCertificate.privateKeyPem, this.serverCertificate.fingerprint])
        .apply(([tunnelId, domain, token, tokenId, certificatePem, privateKeyPem, fingerprint]) => ({
          ...base(domain),
          tunnelId,
          domain,
          token: { value: token, id: tokenId },
          serverCertificate: { certificatePem, privateKeyPem, fingerprint },
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
          ...base(domain),
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
    this.composeProject = pulumi.secret(facts.apply(renderComposeProject));
    this.proxyConfig = pulumi.unsecret(facts.apply(renderProxyConfig));
    this.mcpServerUrls = pulumi.unsecret(facts.apply(mcpServerUrls));

    this.registerOutputs({
      tunnelId: this.tunnelId,
      domain: this.domain,
      helmValues: this.helmValues,
      kubernetesSecrets: this.kubernetesSecrets,
      secretsChecksum: this.secretsChecksum,
      composeEnv: this.composeEnv,
      composeProject: this.composeProject,
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
  const given = typeof args === "object" && args !== null ? { ...(args as Record<string, unknown>) } : args;
  const problems: { property: string; reason: string }[] = [];
  if (typeof given === "object" && given !== null) {
    for (const key of Object.keys(REMOVED_INPUTS).filter((name) => name in given)) {
      problems.push({ property: key, reason: REMOVED_INPUTS[key]! });
      delete (given as Record<string, unknown>)[key];
    }
  }
  const result = tunnelDeploymentSchema.inputs.safeParse(given, { reportInput: false });
  if (!result.success) problems.push(...result.error.issues.map((issue) => ({ property: issue.path.map(String).join(".") || "(settings)", reason: issue.message })));
  const settings = result.success ? result.data : undefined;
  if (settings) problems.push(...tunnelDeploymentSchema.rules.flatMap((rule) => rule(settings as Record<string, unknown>)));
  return settings && problems.length === 0 ? { settings, problems } : { problems };
}

/**
 * Routes keyed by label. A full-hostname key must name this tunnel's domain: the proxy would
 * accept another, but no request for it ever reaches this tunnel.
 */
function routesByLabel(settings: TunnelDeploymentSettings, domain: string): Record<string, RouteSpec> {
  return Object.fromEntries(
    Object.entries(settings.routes).map(([key, route]) => {
      const full = FULL_HOSTNAME_ROUTE_PATTERN.exec(key);
      if (full && full[3] !== domain) {
        throw new TunnelDeploymentSettingsError([{ property: `routes.${key}`, reason: `routes.${key} names another tunnel's domain: this tunnel's domain is ${domain}; write the key as its label (${full[1]}) or ${full[1]}.${domain}` }]);
      }
      return [full ? full[1]! : key, typeof route === "string" ? { upstream: route, mcpPath: "/mcp" } : route];
    }),
  );
}
