import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TunnelDeployment } from "pulumi-mcp-tunnels";

const TOKEN_SECRET_NAME = "mcp-tunnel-token";
const SERVER_CERT_SECRET_NAME = "mcp-tunnel-server-cert";

/**
 * Manual mode on Kubernetes: this stack creates the tunnel, CA, server certificate and token,
 * writes them into the two Secrets the chart reads in external mode (`setup.enabled: false`), and
 * installs the chart with the stack's Helm values. A token rotation or a new server certificate
 * changes `secretsChecksum`, which is a pod annotation, so the release rolls the pods.
 *
 * Stack config: `chart` (required, the tunnel chart's reference, e.g. an `oci://` URL),
 * `chartVersion`, `namespace` (default `mcp-tunnel`), `tokenRotation`, `caRotation`.
 * Kubernetes credentials come from the ambient kubeconfig, as for any `@pulumi/kubernetes` stack.
 */
export default function helm() {
  const config = new pulumi.Config();
  const namespaceName = config.get("namespace") ?? "mcp-tunnel";
  const deployment = new TunnelDeployment("helm", {
    displayName: `helm-${pulumi.getStack()}`,
    routes: { mcp: `http://mcp-server.${namespaceName}.svc.cluster.local:8080` },
    allowedIps: ["10.0.0.0/8"],
    tunnelTokenSecretName: TOKEN_SECRET_NAME,
    serverCertSecretName: SERVER_CERT_SECRET_NAME,
    ca: { rotation: config.get("caRotation") ?? "1" },
    token: { rotation: config.get("tokenRotation") ?? "1" },
  });

  const namespace = new k8s.core.v1.Namespace("mcp-tunnel", { metadata: { name: namespaceName } });
  // kubernetesSecrets is a secret output, and so is everything derived from it: the Secrets' data
  // stays encrypted in state and masked in previews.
  const secrets = deployment.kubernetesSecrets;
  const tokenSecret = new k8s.core.v1.Secret("tunnel-token", {
    metadata: { name: TOKEN_SECRET_NAME, namespace: namespace.metadata.name },
    type: "Opaque",
    stringData: secrets.apply((s) => s.tunnelToken.stringData as Record<string, string>),
  });
  const serverCertSecret = new k8s.core.v1.Secret("server-cert", {
    metadata: { name: SERVER_CERT_SECRET_NAME, namespace: namespace.metadata.name },
    type: "kubernetes.io/tls",
    stringData: secrets.apply((s) => s.serverCert.stringData as Record<string, string>),
  });

  const release = new k8s.helm.v3.Release(
    "mcp-tunnel",
    {
      chart: config.require("chart"),
      version: config.get("chartVersion"),
      namespace: namespace.metadata.name,
      values: pulumi.all([deployment.helmValues, deployment.secretsChecksum]).apply(([values, checksum]) => ({
        ...values,
        // `podAnnotations` is the common chart convention; use your chart's key if it differs.
        podAnnotations: { "checksum/tunnel-secrets": checksum },
      })),
    },
    // The chart mounts the Secrets by name: they must exist before its pods start.
    { dependsOn: [tokenSecret, serverCertSecret] },
  );

  return {
    tunnelId: deployment.tunnelId,
    domain: deployment.domain,
    mcpServerUrls: deployment.mcpServerUrls,
    helmValues: deployment.helmValues,
    releaseName: release.name,
    releaseStatus: release.status.status,
  };
}
