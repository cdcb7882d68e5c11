// What the official Helm chart (2.0.x) and the documented Docker Compose stack expect of their
// inputs, as named values. Every renderer asks this module; a documented value changes here once.
// See docs/deploy.md for where each one comes from and what breaks when it is wrong.

/** cloudflared forwards to this origin, and the proxy must listen where it points. */
export const PROXY_LISTEN_ADDR = ":8080";
export const CONNECTOR_ORIGIN_URL = "http://localhost:8080";
export const CONNECTOR_COMMAND = ["tunnel", "--no-autoupdate", "run", "--url", CONNECTOR_ORIGIN_URL] as const;

/** The documented images, pinned by digest; both are inputs, so a mirror can replace them. */
export const DEFAULT_IMAGES = {
  proxy: "us-docker.pkg.dev/anthropic-public-registry/images/mcp-proxy@sha256:efb27b299d627e4134815663cb8896641eeaee025d734c0f695582b4df38f013",
  cloudflared: "cloudflare/cloudflared@sha256:6b599ca3e974349ead3286d178da61d291961182ec3fe9c505e1dd02c8ac31b0",
} as const;

/** Every container of the stack runs as this non-root user; the proxy must be able to open the key. */
export const CONTAINER_UID = 65532;
export const CONTAINER_GID = 65532;

/** Compose layout: where the proxy finds its config and the files of `data/`. */
export const COMPOSE = {
  file: "docker-compose.yml",
  envFile: ".env",
  configFile: "config/mcp-proxy.yaml",
  dataDir: "data",
  proxyConfigMount: "/etc/mcp-gateway/config.yaml",
  dataMount: "/data",
  services: { proxy: "mcp-proxy", connector: "cloudflared", setup: "setup" },
  setupProfile: "setup",
  setupEntrypoint: "/setup",
  /** The proxy's shutdown_timeout stays within the grace period, or in-flight requests are killed. */
  stopGracePeriod: "30s",
  shutdownTimeout: "30s",
  logging: { "max-size": "10m", "max-file": "3" },
  apiUrl: "https://api.anthropic.com",
} as const;

/** Files of `data/` by name, as the proxy and the setup component read and write them. */
export const DATA_FILES = {
  serverCertificate: "tls.crt",
  serverKey: "tls.key",
  upstreamCaBundle: "upstream-ca.pem",
  tunnelToken: "tunnel-token",
  tunnelDomain: "tunnel-domain",
} as const;

/** The proxy's upstream IP validation default; setting `allowed_ips` replaces it. */
export const DEFAULT_ALLOWED_IPS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

/** The chart's fixed Secret keys in external mode; names are configurable, keys are not. */
export const CHART = {
  reference: "oci://us-docker.pkg.dev/anthropic-public-registry/charts/mcp-tunnel",
  version: "2.0.2",
  /** Release name = fullname, so the setup job's service account is `mcp-tunnel-setup`. */
  releaseName: "mcp-tunnel",
  namespace: "mcp-tunnel",
  tokenSecretKey: "tunnel-token",
  certificateSecretKeys: { certificate: "tls.crt", key: "tls.key" },
  defaultSecretNames: { tunnelToken: "mcp-tunnel-token", serverCertificate: "mcp-tunnel-cert" },
} as const;

/** The setup component reads its WIF settings from these variables (compose passes them through). */
export const SETUP_ENV = ["TUNNEL_ID", "ANTHROPIC_FEDERATION_RULE_ID", "ANTHROPIC_ORGANIZATION_ID", "ANTHROPIC_WORKSPACE_ID", "ANTHROPIC_IDENTITY_TOKEN"] as const;

/** Go duration the chart's renewal CronJob and `setup renew-cert --renew-before` take. */
export const hoursDuration = (days: number): string => `${days * 24}h`;
