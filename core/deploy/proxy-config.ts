import { stringify } from "yaml";
import { COMPOSE, DATA_FILES, PROXY_LISTEN_ADDR } from "../contract/deploy";
import type { DeploymentFacts } from "./deployment-facts";

const dataPath = (file: string) => `${COMPOSE.dataMount}/${file}`;

/**
 * The `upstream` block, or undefined when every setting is the proxy's default. `allowed_ips`
 * appears only when set (it replaces the default; an empty list is undocumented), and
 * `disable_ip_validation` only as `true` (the two are exclusive).
 */
function upstreamBlock(facts: DeploymentFacts, target: "compose" | "helm"): Record<string, unknown> | undefined {
  const { upstream } = facts;
  const block: Record<string, unknown> = {};
  if (upstream.allowedIps && upstream.allowedIps.length > 0) block.allowed_ips = [...upstream.allowedIps];
  else if (upstream.disableIpValidation === true) block.disable_ip_validation = true;
  const tls: Record<string, unknown> = {};
  // The chart documents no mount for an upstream CA bundle, so only Compose points at one.
  if (upstream.caCertificatePem && target === "compose") tls.ca_file = dataPath(DATA_FILES.upstreamCaBundle);
  if (upstream.includeSystemCas === true) tls.include_system_cas = true;
  if (Object.keys(tls).length > 0) block.tls = tls;
  return Object.keys(block).length > 0 ? block : undefined;
}

const routeTable = (facts: DeploymentFacts) =>
  Object.fromEntries(Object.entries(facts.routes).sort(([a], [b]) => a.localeCompare(b)).map(([label, route]) => [label, route.upstream]));

/** The proxy's config.yaml as the Compose stack mounts it; it holds no secret. */
export function proxyConfigDocument(facts: DeploymentFacts): Record<string, unknown> {
  const upstream = upstreamBlock(facts, "compose");
  return {
    listen_addr: PROXY_LISTEN_ADDR,
    log_level: facts.logLevel,
    shutdown_timeout: COMPOSE.shutdownTimeout,
    tunnel_domain: facts.domain,
    tls: { cert_file: dataPath(DATA_FILES.serverCertificate), key_file: dataPath(DATA_FILES.serverKey) },
    routes: routeTable(facts),
    ...(upstream ? { upstream } : {}),
  };
}

export function renderProxyConfig(facts: DeploymentFacts): string {
  return stringify(proxyConfigDocument(facts), { lineWidth: 0 });
}

/**
 * `gateway.config` of the chart's values: what the chart passes through. The chart sets
 * `listen_addr` and `tls.*` itself and ignores values for them, and in managed mode injects the
 * domain as a flag from its Secret, so none of those is emitted there.
 */
export function gatewayConfig(facts: DeploymentFacts): Record<string, unknown> {
  const upstream = upstreamBlock(facts, "helm");
  return {
    ...(facts.mode === "manual" ? { tunnel_domain: facts.domain } : {}),
    routes: routeTable(facts),
    ...(upstream ? { upstream } : {}),
    log_level: facts.logLevel,
  };
}

export function mcpServerUrls(facts: DeploymentFacts): Record<string, string> {
  return Object.fromEntries(Object.entries(facts.routes).map(([label, route]) => [label, `https://${label}.${facts.domain}${route.mcpPath}`]));
}
