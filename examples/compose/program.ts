import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DeploymentDirectory, TunnelDeployment } from "pulumi-mcp-tunnels";

/**
 * Manual mode written out as the documented Docker Compose project: `docker-compose.yml`
 * (mcp-proxy, and cloudflared in its network namespace), `.env` (the tunnel token, read by
 * Compose for cloudflared only), `config/mcp-proxy.yaml` and `data/tls.crt`/`data/tls.key`, each
 * with the mode its container needs. `pulumi preview` writes nothing; a rotation previews as an
 * update of the directory. Then: `cd <composeDir> && docker compose up -d`.
 *
 * Stack config: `composeDir` (default `out/` beside this file); `routes` (JSON object, route →
 * `scheme://host:port`, default `{"echo": "http://hello-mcp:9000"}`); `allowedIps` (JSON list;
 * replaces the proxy's RFC1918 default); `tokenRotation`, `caRotation`.
 */
export default function compose() {
  const config = new pulumi.Config();
  const dir = path.resolve(config.get("composeDir") ?? path.join(__dirname, "out"));
  const deployment = new TunnelDeployment("compose", {
    displayName: `compose-${pulumi.getStack()}`,
    routes: config.getObject<Record<string, string>>("routes") ?? { echo: "http://hello-mcp:9000" },
    allowedIps: config.getObject<string[]>("allowedIps"),
    ca: { rotation: config.get("caRotation") ?? "1" },
    token: { rotation: config.get("tokenRotation") ?? "1" },
  });
  const directory = new DeploymentDirectory("compose-project", DeploymentDirectory.forProject(dir, deployment.composeProject));

  return {
    composeDir: directory.dir,
    composeFileNames: directory.fileNames,
    ownership: directory.ownership,
    tunnelId: deployment.tunnelId,
    domain: deployment.domain,
    mcpServerUrls: deployment.mcpServerUrls,
    proxyConfig: deployment.proxyConfig,
  };
}
