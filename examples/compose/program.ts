import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { TunnelDeployment } from "pulumi-mcp-tunnels";
import { ComposeDirectory } from "./compose-directory";

/** Mount points in the gateway container: the proxy config names the TLS files under DATA_DIR. */
const PROXY_CONFIG_PATH = "/etc/mcp-gateway/config.yaml";
const DATA_DIR = "/data";

/** Files that hold the tunnel token or the server's private key. */
const PRIVATE_FILES = [".env", "data/tunnel-token", "data/tls.key"];

/**
 * The images are yours to choose (the tunnel gateway and your MCP server); Compose stops with the
 * message below until they are set, rather than starting something this example made up.
 */
const DOCKER_COMPOSE_YML = `# Written by \`pulumi up\` (examples/compose); edits are overwritten.
services:
  mcp-gateway:
    image: \${MCP_GATEWAY_IMAGE:?set MCP_GATEWAY_IMAGE to the MCP tunnel gateway image}
    restart: unless-stopped
    env_file: .env
    volumes:
      - ./config/mcp-proxy.yaml:${PROXY_CONFIG_PATH}:ro
      - ./data:${DATA_DIR}:ro
  mcp-server:
    image: \${MCP_SERVER_IMAGE:?set MCP_SERVER_IMAGE to your MCP server image, listening on 8080}
    restart: unless-stopped
`;

/**
 * Manual mode written out as a Docker Compose directory: `.env`, `data/tunnel-token`,
 * `data/tunnel-domain`, `data/tls.crt`, `data/tls.key`, `config/mcp-proxy.yaml` and
 * `docker-compose.yml`. The files are written by a resource, so `pulumi preview` writes nothing
 * and shows when a rotation will rewrite them.
 *
 * Stack config: `composeDir` (default `out/` beside this file), `tokenRotation`, `caRotation`.
 */
export default function compose() {
  const config = new pulumi.Config();
  const dir = path.resolve(config.get("composeDir") ?? path.join(__dirname, "out"));
  const deployment = new TunnelDeployment("compose", {
    displayName: `compose-${pulumi.getStack()}`,
    routes: { mcp: "http://mcp-server:8080" },
    tlsDir: DATA_DIR,
    ca: { rotation: config.get("caRotation") ?? "1" },
    token: { rotation: config.get("tokenRotation") ?? "1" },
  });
  const files = pulumi
    .all([deployment.composeEnv, deployment.composeFiles])
    .apply(([env, composeFiles]) => ({ ".env": env, ...composeFiles, "docker-compose.yml": DOCKER_COMPOSE_YML }));
  const directory = new ComposeDirectory("compose-directory", { dir, files, privateFiles: PRIVATE_FILES });

  return {
    composeDir: directory.dir,
    composeFileNames: directory.fileNames,
    tunnelId: deployment.tunnelId,
    domain: deployment.domain,
    mcpServerUrls: deployment.mcpServerUrls,
    proxyConfig: deployment.proxyConfig,
  };
}
