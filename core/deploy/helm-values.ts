import { createHash } from "node:crypto";
import { CHART, hoursDuration } from "../contract/deploy";
import type { DeploymentFacts } from "./deployment-facts";
import { gatewayConfig } from "./proxy-config";

/**
 * A complete values file for the chart, with only documented keys and each in the mode that
 * reads it. External (manual) mode: the two Secrets by name and the domain; the chart reads no
 * tunnel id, token version or renewal settings there. Managed (programmatic) mode: the WIF
 * settings, the tunnel to attach and its token version, and the renewal window of the chart's
 * CronJob.
 *
 * `setup.force` is always true in managed mode: without it the setup hook never re-runs on an
 * upgrade, so a raised `tunnel.tokenVersion` would rotate nothing. The hook is idempotent (it
 * reuses the tunnel and CA stored in the release's Secret and rotates only when the version
 * changed), so re-running it on other upgrades costs one token exchange and changes nothing.
 */
export function renderHelmValues(facts: DeploymentFacts): Record<string, unknown> {
  if (facts.mode === "manual") {
    return {
      setup: { enabled: false },
      external: { tunnelTokenSecretName: facts.secretNames.tunnelToken, serverCertSecretName: facts.secretNames.serverCert },
      gateway: { config: gatewayConfig(facts) },
    };
  }
  return {
    setup: { enabled: true, force: true },
    tunnel: { id: facts.tunnelId, tokenVersion: facts.tokenVersion },
    api: { wif: { ...facts.wif } },
    serverCert: { renewBefore: hoursDuration(facts.renewBeforeDays) },
    gateway: { config: gatewayConfig(facts) },
  };
}

/**
 * Manual mode: the two Secrets the chart reads in external mode, Opaque with exactly the keys it
 * reads (the TLS Secret type is not documented for it). Create them before the release.
 */
export function renderKubernetesSecrets(facts: DeploymentFacts): Record<string, unknown> {
  if (!facts.token || !facts.serverCertificate) return {};
  const keys = CHART.certificateSecretKeys;
  return {
    tunnelToken: { name: facts.secretNames.tunnelToken, type: "Opaque", stringData: { [CHART.tokenSecretKey]: facts.token.value } },
    serverCert: {
      name: facts.secretNames.serverCert,
      type: "Opaque",
      stringData: { [keys.certificate]: facts.serverCertificate.certificatePem, [keys.key]: facts.serverCertificate.privateKeyPem },
    },
  };
}

/**
 * Changes exactly when running pods hold a stale credential: the token is read only at pod
 * start. Derived from non-secret ids (token id, certificate fingerprint, token version), so it
 * can be shown in plain text.
 */
export function secretsChecksum(facts: DeploymentFacts): string {
  const material = [facts.token?.id ?? "", facts.serverCertificate?.fingerprint ?? "", facts.tokenVersion ?? ""].join("\n");
  return createHash("sha256").update(material).digest("hex");
}
