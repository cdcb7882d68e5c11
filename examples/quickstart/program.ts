import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DeploymentDirectory, TunnelDeployment } from "pulumi-mcp-tunnels";

/**
 * The quickstart in manual mode: this stack owns the tunnel, its CA and the CA's registration,
 * the proxy's server certificate and the tunnel token, exports everything a Helm or Compose
 * deployment reads, and writes the Compose project (the proxy's and the connector's files) into a
 * local directory. Those files are the token's consumers on a laptop: a rotation's preview shows
 * them being rewritten along with the TunnelToken.
 *
 * Stack config: `tokenRotation` and `caRotation` (change either to rotate on the next `up`),
 * `deployDir` (default `out/` beside this file), `routes` and `allowedIps` (JSON; `make demo`
 * points them at a local MCP server).
 */
export default function quickstart() {
  const config = new pulumi.Config();
  const deployment = new TunnelDeployment("quickstart", {
    displayName: `quickstart-${pulumi.getStack()}`,
    routes: config.getObject<Record<string, string | { upstream: string; mcpPath?: string }>>("routes") ?? {
      mcp: "http://10.0.0.5:8080",
      docs: { upstream: "http://10.0.0.7:8080", mcpPath: "/v1/mcp" },
    },
    allowedIps: config.getObject<string[]>("allowedIps") ?? ["10.0.0.0/8"],
    ca: { rotation: config.get("caRotation") ?? "1" },
    token: { rotation: config.get("tokenRotation") ?? "1" },
  });
  const files = new DeploymentDirectory(
    "quickstart-files",
    DeploymentDirectory.forProject(path.resolve(config.get("deployDir") ?? path.join(__dirname, "out")), deployment.composeProject),
  );

  return {
    tunnelId: deployment.tunnelId,
    domain: deployment.domain,
    mcpServerUrls: deployment.mcpServerUrls,
    helmValues: deployment.helmValues,
    proxyConfig: deployment.proxyConfig,
    secretsChecksum: deployment.secretsChecksum,
    deployDir: files.dir,
    deployFiles: files.fileNames,
    // The three below carry the token and the server key: they stay secret in state and output.
    kubernetesSecrets: deployment.kubernetesSecrets,
    composeEnv: deployment.composeEnv,
    composeProject: deployment.composeProject,
  };
}
