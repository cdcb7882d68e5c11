import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TunnelDeployment } from "pulumi-mcp-tunnels";

/** The documented release name: the chart's fullname is then `mcp-tunnel` and so is the Deployment. */
const RELEASE = "mcp-tunnel";
const CHART = "oci://us-docker.pkg.dev/anthropic-public-registry/charts/mcp-tunnel";
const CHART_VERSION = "2.0.2";
/** Our own pod-template annotation: changing it rolls the pods, as `kubectl rollout restart` does. */
const ROLL_ANNOTATION = "mcp-tunnels.pulumi.com/credentials";

/**
 * Manual mode on Kubernetes: this stack creates the tunnel, CA, server certificate and token,
 * writes them into the two Opaque Secrets the chart reads in external mode
 * (`setup.enabled: false`), installs the chart with the stack's complete values, and rolls the
 * pods when the token rotates or the certificate is re-issued: the chart reads the token only at
 * pod start and documents no pod-annotation value, so a `DeploymentPatch` sets a pod-template
 * annotation on the chart's Deployment, the way `kubectl rollout restart` does.
 *
 * `helm.v3.Release` with hooks enabled is the one Pulumi Helm resource that keeps the chart's
 * setup hook semantics (v4.Chart drops hook resources, v3.Chart renders the hook as a plain Job).
 *
 * Stack config: `namespace` (default `mcp-tunnel`), `chartVersion` (default 2.0.2),
 * `tokenRotation`, `caRotation`. Kubernetes credentials come from the ambient kubeconfig.
 */
export default function helm() {
  const config = new pulumi.Config();
  const namespaceName = config.get("namespace") ?? "mcp-tunnel";
  const deployment = new TunnelDeployment("helm", {
    displayName: `helm-${pulumi.getStack()}`,
    routes: { mcp: `http://mcp-server.${namespaceName}.svc.cluster.local:8080` },
    ca: { rotation: config.get("caRotation") ?? "1" },
    token: { rotation: config.get("tokenRotation") ?? "1" },
  });

  const namespace = new k8s.core.v1.Namespace("mcp-tunnel", { metadata: { name: namespaceName } });
  // kubernetesSecrets is a secret output, and so is everything derived from it: the Secrets' data
  // stays encrypted in state and masked in previews.
  const secrets = deployment.kubernetesSecrets;
  const secret = (key: "tunnelToken" | "serverCert") =>
    new k8s.core.v1.Secret(key === "tunnelToken" ? "tunnel-token" : "server-cert", {
      metadata: { name: secrets.apply((s) => s[key].name as string), namespace: namespace.metadata.name },
      type: "Opaque",
      stringData: secrets.apply((s) => s[key].stringData as Record<string, string>),
    });
  const tokenSecret = secret("tunnelToken");
  const serverCertSecret = secret("serverCert");

  const release = new k8s.helm.v3.Release(
    RELEASE,
    {
      name: RELEASE,
      chart: CHART,
      version: config.get("chartVersion") ?? CHART_VERSION,
      namespace: namespace.metadata.name,
      values: deployment.helmValues,
    },
    // The chart mounts the Secrets by name: they must exist before its pods start.
    { dependsOn: [tokenSecret, serverCertSecret] },
  );

  new k8s.apps.v1.DeploymentPatch(
    "mcp-tunnel-roll",
    {
      metadata: { name: RELEASE, namespace: namespace.metadata.name, annotations: { "pulumi.com/patchForce": "true" } },
      spec: { template: { metadata: { annotations: { [ROLL_ANNOTATION]: deployment.secretsChecksum } } } },
    },
    { dependsOn: [release] },
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
