import { Document } from "yaml";
import { COMPOSE, CONNECTOR_COMMAND, CONTAINER_GID, CONTAINER_UID, DATA_FILES, SETUP_ENV } from "../contract/deploy";
import type { DeploymentFacts } from "./deployment-facts";
import { renderProxyConfig } from "./proxy-config";

/** One file of the project: its content, its mode, and the owner a container needs. */
export interface ProjectFile {
  content: string;
  mode: number;
  /** Set when a container (UID 65532) must own it; chown needs root. */
  owner?: { uid: number; gid: number };
  /** The mode to use instead when the writer cannot chown (the documented fallback). */
  modeWithoutOwner?: number;
  /** Lower is written first (default 0): a key goes before its certificate, which the proxy polls. */
  order?: number;
}

export interface ProjectDirectory {
  mode: number;
  /** Without the right to chown, the writer keeps `mode` and reports that ownership was not applied. */
  owner?: { uid: number; gid: number };
}

export interface ComposeProject {
  files: Record<string, ProjectFile>;
  directories: Record<string, ProjectDirectory>;
}

const CONTAINER_OWNER = { uid: CONTAINER_UID, gid: CONTAINER_GID };

/** What the documented stack sets on every service. */
const HARDENING = {
  user: `${CONTAINER_UID}:${CONTAINER_GID}`,
  read_only: true,
  security_opt: ["no-new-privileges:true"],
  cap_drop: ["ALL"],
};
const LONG_RUNNING = { restart: "unless-stopped", stop_grace_period: COMPOSE.stopGracePeriod, logging: { options: { ...COMPOSE.logging } } };

/**
 * cloudflared reads the token from `TUNNEL_TOKEN`, interpolated by Compose from the shell or
 * `.env`. Manual mode writes `.env`, so a missing token is an error (`:?`) rather than a
 * container started with an empty one; programmatic mode takes it from `data/tunnel-token`
 * after setup runs, so `docker compose run setup` must work before it exists.
 */
function connectorToken(facts: DeploymentFacts): string {
  return facts.mode === "manual" ? "${TUNNEL_TOKEN:?TUNNEL_TOKEN is not set: pulumi up writes it to .env}" : "${TUNNEL_TOKEN}";
}

export function composeDocument(facts: DeploymentFacts): Record<string, unknown> {
  const { proxy, connector, setup } = COMPOSE.services;
  const services: Record<string, unknown> = {};
  if (facts.mode === "programmatic") {
    services[setup] = {
      image: facts.images.proxy,
      entrypoint: [COMPOSE.setupEntrypoint],
      command: ["init", `--api-url=${COMPOSE.apiUrl}`, `--output=dir:${COMPOSE.dataMount}`, `--token-version=${facts.tokenVersion}`],
      // Pass-through names only: the identity token is minted fresh for each run.
      environment: [...SETUP_ENV],
      volumes: [`./${COMPOSE.dataDir}:${COMPOSE.dataMount}`],
      profiles: [COMPOSE.setupProfile],
      ...HARDENING,
    };
  }
  services[proxy] = {
    image: facts.images.proxy,
    volumes: [`./${COMPOSE.configFile}:${COMPOSE.proxyConfigMount}:ro`, `./${COMPOSE.dataDir}:${COMPOSE.dataMount}:ro`],
    ...LONG_RUNNING,
    ...HARDENING,
  };
  services[connector] = {
    image: facts.images.cloudflared,
    command: [...CONNECTOR_COMMAND],
    environment: { TUNNEL_TOKEN: connectorToken(facts) },
    network_mode: `service:${proxy}`,
    ...LONG_RUNNING,
    ...HARDENING,
  };
  return { services };
}

function renderComposeFile(facts: DeploymentFacts): string {
  const document = new Document(composeDocument(facts));
  document.commentBefore = " Written by `pulumi up` (pulumi-mcp-tunnels); edits are overwritten.";
  return document.toString({ lineWidth: 0 });
}

/** The `.env` Compose reads for interpolation; no container gets it as an env file. */
export function renderComposeEnv(facts: DeploymentFacts): string {
  const lines = [`TUNNEL_ID=${facts.tunnelId}`, `TUNNEL_DOMAIN=${facts.domain}`];
  if (facts.token) lines.push(`TUNNEL_TOKEN=${facts.token.value}`);
  if (facts.wif) {
    // The setup service passes these through; the identity token is exported per run.
    lines.push(
      `ANTHROPIC_FEDERATION_RULE_ID=${facts.wif.federationRuleId}`,
      `ANTHROPIC_ORGANIZATION_ID=${facts.wif.organizationId}`,
      `ANTHROPIC_WORKSPACE_ID=${facts.wif.workspaceId}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Every file and directory of the Compose project with the mode each needs. The proxy runs as
 * UID 65532 and must open `tls.key`: written `65532:65532 0600` where the writer can chown,
 * otherwise `0644` as the manual guide does. In programmatic mode the setup component (UID
 * 65532) writes `data/` itself, so the directory is handed to it.
 */
export function renderComposeProject(facts: DeploymentFacts): ComposeProject {
  const data = (file: string) => `${COMPOSE.dataDir}/${file}`;
  const files: Record<string, ProjectFile> = {
    [COMPOSE.file]: { content: renderComposeFile(facts), mode: 0o644 },
    [COMPOSE.envFile]: { content: renderComposeEnv(facts), mode: 0o600 },
    [COMPOSE.configFile]: { content: renderProxyConfig(facts), mode: 0o644 },
  };
  if (facts.serverCertificate) {
    files[data(DATA_FILES.serverKey)] = { content: facts.serverCertificate.privateKeyPem, mode: 0o600, owner: CONTAINER_OWNER, modeWithoutOwner: 0o644, order: -1 };
    files[data(DATA_FILES.serverCertificate)] = { content: facts.serverCertificate.certificatePem, mode: 0o644 };
  }
  if (facts.upstream.caCertificatePem) files[data(DATA_FILES.upstreamCaBundle)] = { content: facts.upstream.caCertificatePem, mode: 0o644 };
  const directories: Record<string, ProjectDirectory> = {
    config: { mode: 0o755 },
    [COMPOSE.dataDir]: facts.mode === "programmatic" ? { mode: 0o750, owner: CONTAINER_OWNER } : { mode: 0o755 },
  };
  return { files, directories };
}
