import type { DeploymentFacts } from "./deployment-facts";
import { renderProxyConfig } from "./proxy-config";

/** The Compose `.env`: manual mode carries the token; programmatic mode the WIF settings. */
export function renderComposeEnv(facts: DeploymentFacts): string {
  const lines = [`TUNNEL_ID=${facts.tunnelId}`, `TUNNEL_DOMAIN=${facts.domain}`];
  if (facts.token) lines.push(`TUNNEL_TOKEN=${facts.token.value}`);
  if (facts.wif) {
    lines.push(
      `ANTHROPIC_FEDERATION_RULE_ID=${facts.wif.federationRuleId}`,
      `ANTHROPIC_ORGANIZATION_ID=${facts.wif.organizationId}`,
      `ANTHROPIC_WORKSPACE_ID=${facts.wif.workspaceId}`,
      "ANTHROPIC_IDENTITY_TOKEN_FILE=/var/run/secrets/anthropic/identity-token",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Files of the Compose directory by relative path. */
export function renderComposeFiles(facts: DeploymentFacts): Record<string, string> {
  const files: Record<string, string> = {
    "data/tunnel-domain": `${facts.domain}\n`,
    "config/mcp-proxy.yaml": renderProxyConfig(facts),
  };
  if (facts.token) files["data/tunnel-token"] = `${facts.token.value}\n`;
  if (facts.serverCertificate) {
    files["data/tls.crt"] = facts.serverCertificate.certificatePem;
    files["data/tls.key"] = facts.serverCertificate.privateKeyPem;
  }
  return files;
}
