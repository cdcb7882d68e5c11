import type { RouteSpec } from "../schemas/tunnel-deployment";

/** Everything the deploy outputs are rendered from, once the stack's values are known. */
export interface DeploymentFacts {
  mode: "manual" | "programmatic";
  tunnelId: string;
  domain: string;
  routes: Record<string, RouteSpec>;
  allowedIps: string[];
  logLevel: string;
  listenAddr: string;
  tlsDir: string;
  /** Changes with every rotation: tunnel.tokenVersion in Helm values. */
  tokenVersion: string;
  secretNames: { tunnelToken: string; serverCert: string };
  /** Manual mode only. */
  token?: { value: string; id: string };
  serverCertificate?: { certificatePem: string; privateKeyPem: string; fingerprint: string; renewBeforeDays: number };
  /** Programmatic mode only. */
  wif?: { federationRuleId: string; organizationId: string; workspaceId: string; audience: string };
}

export const PROXY_CONFIG_PATH = "/etc/mcp-gateway/config.yaml";
