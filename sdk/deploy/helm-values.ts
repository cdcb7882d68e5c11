import { createHash } from "node:crypto";
import type { DeploymentFacts } from "./deployment-facts";
import { gatewayConfig } from "./proxy-config";

const HOURS_PER_DAY = 24;

/**
 * Values for the tunnel stack's chart. Secrets are referenced by Secret name (manual mode) or
 * made by the chart's own setup job (programmatic mode); they are never inlined here.
 */
export function renderHelmValues(facts: DeploymentFacts): Record<string, unknown> {
  const values: Record<string, unknown> = {
    tunnel: { id: facts.tunnelId, tokenVersion: facts.tokenVersion },
    setup: { enabled: facts.mode === "programmatic" },
    gateway: { config: gatewayConfig(facts) },
  };
  if (facts.mode === "manual") {
    values.external = { tunnelTokenSecretName: facts.secretNames.tunnelToken, serverCertSecretName: facts.secretNames.serverCert };
    if (facts.serverCertificate) values.serverCert = { renewBefore: `${facts.serverCertificate.renewBeforeDays * HOURS_PER_DAY}h` };
  }
  if (facts.wif) values.api = { wif: { ...facts.wif } };
  return values;
}

/** Manual mode: the data of the two Secrets the chart reads in external mode. */
export function renderKubernetesSecrets(facts: DeploymentFacts): Record<string, unknown> {
  if (!facts.token || !facts.serverCertificate) return {};
  return {
    tunnelToken: { name: facts.secretNames.tunnelToken, type: "Opaque", stringData: { "tunnel-token": facts.token.value } },
    serverCert: {
      name: facts.secretNames.serverCert,
      type: "kubernetes.io/tls",
      stringData: { "tls.crt": facts.serverCertificate.certificatePem, "tls.key": facts.serverCertificate.privateKeyPem },
    },
  };
}

/**
 * A pod annotation value that changes exactly when the token rotates or the server certificate
 * is re-issued, derived from their (non-secret) ids so it can be shown in plain text.
 */
export function secretsChecksum(facts: DeploymentFacts): string {
  const material = [facts.tokenVersion, facts.serverCertificate?.fingerprint ?? ""].join("\n");
  return createHash("sha256").update(material).digest("hex");
}
