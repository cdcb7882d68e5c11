import type { DeploymentFacts } from "./deployment-facts";

// Scalars are written as JSON strings, which YAML reads verbatim: no quoting rules to get wrong.
const scalar = (value: string): string => JSON.stringify(value);

/** The proxy's config.yaml: listen_addr, tunnel_domain, tls.*, routes, upstream.allowed_ips, log_level. */
export function renderProxyConfig(facts: DeploymentFacts): string {
  const routes = Object.entries(facts.routes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([subdomain, route]) => `  ${scalar(subdomain)}: ${scalar(route.upstream)}`);
  const allowed = facts.allowedIps.length > 0 ? facts.allowedIps.map((ip) => `    - ${scalar(ip)}`) : ["    []"];
  return [
    `listen_addr: ${scalar(facts.listenAddr)}`,
    `tunnel_domain: ${scalar(facts.domain)}`,
    "tls:",
    `  cert_file: ${scalar(`${facts.tlsDir}/tls.crt`)}`,
    `  key_file: ${scalar(`${facts.tlsDir}/tls.key`)}`,
    "routes:",
    ...routes,
    "upstream:",
    facts.allowedIps.length > 0 ? "  allowed_ips:" : "  allowed_ips: []",
    ...(facts.allowedIps.length > 0 ? allowed : []),
    `log_level: ${scalar(facts.logLevel)}`,
    "",
  ].join("\n");
}

/** The gateway.config block of the Helm values: the same settings as the proxy config. */
export function gatewayConfig(facts: DeploymentFacts): Record<string, unknown> {
  return {
    tunnel_domain: facts.domain,
    routes: Object.fromEntries(Object.entries(facts.routes).map(([subdomain, route]) => [subdomain, route.upstream])),
    upstream: { allowed_ips: facts.allowedIps },
    log_level: facts.logLevel,
  };
}

export function mcpServerUrls(facts: DeploymentFacts): Record<string, string> {
  return Object.fromEntries(Object.entries(facts.routes).map(([subdomain, route]) => [subdomain, `https://${subdomain}.${facts.domain}${route.mcpPath}`]));
}
