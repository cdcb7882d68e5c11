import type { RouteSpec } from "../schemas/tunnel-deployment";

/** Everything the deploy outputs are rendered from, once the stack's values are known. */
export interface DeploymentFacts {
  mode: "manual" | "programmatic";
  tunnelId: string;
  domain: string;
  /** Keyed by route label (full-hostname keys are already reduced to their label). */
  routes: Record<string, RouteSpec>;
  upstream: UpstreamPolicy;
  logLevel: string;
  images: { proxy: string; cloudflared: string };
  secretNames: { tunnelToken: string; serverCert: string };
  /** Manual mode only. */
  token?: { value: string; id: string };
  serverCertificate?: { certificatePem: string; privateKeyPem: string; fingerprint: string };
  /** Days before expiry the chart's CronJob (programmatic) renews; manual renewal is the stack's. */
  renewBeforeDays: number;
  /** Programmatic mode only. */
  wif?: { federationRuleId: string; organizationId: string; workspaceId: string; audience: string };
  /** Programmatic mode: `tunnel.tokenVersion` and the setup's `--token-version`. */
  tokenVersion?: string;
}

export interface UpstreamPolicy {
  /** Absent: the proxy's RFC1918 default applies. */
  allowedIps?: string[];
  disableIpValidation?: boolean;
  caCertificatePem?: string;
  includeSystemCas?: boolean;
}
