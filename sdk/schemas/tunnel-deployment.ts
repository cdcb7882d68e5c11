import { z } from "zod";
import { DEFAULT_AUDIENCE, DISPLAY_NAME_MAX_CHARS, TUNNEL_ID_PATTERN } from "../api/contract";
import { KEY_ALGORITHMS, type KeyAlgorithm } from "../pki/key-algorithm";
import { field, messages, type ResourceSchema } from "./field";
import { MAX_VALIDITY_DAYS } from "./shared-fields";
import { WORKSPACE_ROLES } from "./federation-rule-binding";

/** A DNS label: what the proxy accepts as a route's subdomain. */
export const SUBDOMAIN_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export const DEFAULT_MCP_PATH = "/mcp";

/**
 * An upstream as the proxy reads it: `scheme://host:port`, the port required, no path, query or
 * credentials. Returns what is wrong, or undefined.
 */
export function upstreamProblem(upstream: string): string | undefined {
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    return "is not a URL: write it as scheme://host:port, e.g. http://10.0.0.5:8080";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must use http or https";
  if (url.username || url.password) return "must not carry credentials: the proxy does not forward them";
  if (!/:\d+$/.test(url.host)) return "needs an explicit port, e.g. http://10.0.0.5:8080";
  if (url.pathname !== "/" || upstream.replace(/\/$/, "").length !== `${url.protocol}//${url.host}`.length) {
    return "must not have a path, query or fragment: the proxy routes by subdomain only (put the MCP path in mcpPath)";
  }
  return undefined;
}

const upstream = z.string({ error: "upstream must be a string scheme://host:port" }).superRefine((value, ctx) => {
  const problem = upstreamProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: `upstream ${problem}` });
});

export const routeSpec = z.strictObject({
  upstream: field(upstream, { description: "Where the proxy forwards the route: `scheme://host:port` (port required, no path)." }),
  mcpPath: field(
    z.string().regex(/^\/[^\s?#]*$/, "mcpPath must start with / and have no query or fragment").default(DEFAULT_MCP_PATH),
    { description: "Path of the MCP endpoint on the upstream, used in `mcpServerUrls` (default `/mcp`)." },
  ),
});
export type RouteSpec = z.output<typeof routeSpec>;

const routes = z
  .record(z.string(), z.union([upstream, routeSpec]))
  .superRefine((value, ctx) => {
    if (Object.keys(value).length === 0) ctx.addIssue({ code: "custom", message: "routes must name at least one subdomain → upstream" });
    for (const subdomain of Object.keys(value)) {
      if (!SUBDOMAIN_PATTERN.test(subdomain)) {
        ctx.addIssue({ code: "custom", path: [subdomain], message: "route names must be DNS labels: lowercase a-z, 0-9 and -, at most 63 characters" });
      }
    }
  });

const days = (name: string) =>
  z.number({ error: `${name} must be a number of days` }).int(`${name} must be whole days`).min(1, `${name} must be at least 1`).max(MAX_VALIDITY_DAYS, `${name} must be at most ${MAX_VALIDITY_DAYS}`);

const certificatePolicy = (what: string) =>
  z.strictObject({
    keyAlgorithm: field(
      z.enum(KEY_ALGORITHMS as [KeyAlgorithm, ...KeyAlgorithm[]], { error: `keyAlgorithm must be one of ${KEY_ALGORITHMS.join(", ")}` }).optional(),
      { description: `Key type: one of ${KEY_ALGORITHMS.join(", ")} (default ECDSA_P256).` },
    ),
    validityDays: field(days(`${what}.validityDays`).optional(), { description: "How long the certificate is valid, in days." }),
    renewBeforeDays: field(days(`${what}.renewBeforeDays`).optional(), { description: "How many days before expiry the preview plans a new certificate." }),
    rotation: field(z.union([z.string(), z.number()]).optional(), { description: "Any value; changing it issues a new certificate on the next `pulumi up`." }),
  });

const inputs = z.strictObject({
  mode: field(z.enum(["manual", "programmatic"], { error: "mode must be manual or programmatic" }).default("manual"), {
    description:
      "`manual`: this stack owns the tunnel, CA, server certificate, registration and token, and the chart runs with `setup.enabled: false`. `programmatic`: this stack owns the tunnel and the federation binding, and the chart's setup job does CA and token through WIF.",
  }),
  displayName: field(z.string({ error: "displayName is required" }).min(1, "displayName must not be empty").max(DISPLAY_NAME_MAX_CHARS, `displayName must be at most ${DISPLAY_NAME_MAX_CHARS} characters`), {
    description: "The tunnel's name in the console; a change replaces (archives) the tunnel.",
  }),
  adoptTunnelId: field(z.string().regex(TUNNEL_ID_PATTERN, `adoptTunnelId ${messages.tunnelId}`).optional(), { description: "Take over an existing tunnel instead of creating one." }),
  routes: field(routes, {
    description: "Subdomain → upstream (`scheme://host:port`, or `{ upstream, mcpPath }`). Each route is reachable as `https://<subdomain>.<domain><mcpPath>`.",
  }),
  allowedIps: field(z.array(z.string().min(1)).optional(), { description: "`upstream.allowed_ips` of the proxy: addresses or CIDRs the proxy may forward to." }),
  logLevel: field(z.enum(LOG_LEVELS, { error: `logLevel must be one of ${LOG_LEVELS.join(", ")}` }).default("info"), { description: "The proxy's `log_level`." }),
  listenAddr: field(z.string().default(":8443"), { description: "The proxy's `listen_addr`." }),
  tlsDir: field(z.string().regex(/^\//, "tlsDir must be an absolute path").default("/etc/mcp-gateway/tls"), {
    description: "Where the proxy finds `tls.crt` and `tls.key` (the proxy config's `tls.cert_file`/`tls.key_file`).",
  }),
  ca: field(certificatePolicy("ca").optional(), { description: "CertificateAuthority settings (manual mode): keyAlgorithm, validityDays, renewBeforeDays, rotation." }),
  serverCertificate: field(certificatePolicy("serverCertificate").optional(), {
    description: "ServerCertificate settings (manual mode): keyAlgorithm, validityDays, renewBeforeDays, rotation.",
  }),
  token: field(
    z
      .strictObject({
        rotation: field(z.union([z.string(), z.number()]).optional(), { description: "Any value; changing it rotates the token on the next `pulumi up`." }),
        rotateEveryDays: field(days("token.rotateEveryDays").optional(), { description: "Rotate automatically this many days after the last rotation." }),
        reason: field(z.string().max(1024, "token.reason must be at most 1024 characters").optional(), { description: "Recorded in the tunnel's audit log with each rotation." }),
      })
      .optional(),
    { description: "TunnelToken settings (manual mode): rotation, rotateEveryDays, reason. In programmatic mode `rotation` becomes `tunnel.tokenVersion`." },
  ),
  federationRuleId: field(z.string().regex(/^fdrl_[A-Za-z0-9_]+$/, "federationRuleId must be a federation rule id (fdrl_…)").optional(), {
    description: "Programmatic mode: the console-created rule with scope `workspace:manage_tunnels`.",
  }),
  workspaceId: field(z.string().regex(/^(wrkspc_[A-Za-z0-9_]+|default)$/, "workspaceId must be a workspace id (wrkspc_…)").optional(), {
    description: "Programmatic mode: the tunnel's workspace.",
  }),
  workspaceRole: field(z.enum(WORKSPACE_ROLES).optional(), { description: "Programmatic mode: role if the binding adds the service account to the workspace." }),
  audience: field(z.string().min(1).default(DEFAULT_AUDIENCE), { description: "Programmatic mode: `api.wif.audience` (default `api.anthropic.com`)." }),
  tunnelTokenSecretName: field(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "tunnelTokenSecretName must be a Kubernetes object name").default("mcp-tunnel-token"), {
    description: "Name of the Kubernetes Secret holding `tunnel-token` (`external.tunnelTokenSecretName`).",
  }),
  serverCertSecretName: field(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "serverCertSecretName must be a Kubernetes object name").default("mcp-tunnel-server-cert"), {
    description: "Name of the Kubernetes TLS Secret holding `tls.crt` and `tls.key` (`external.serverCertSecretName`).",
  }),
});

const outputs = z.object({
  tunnelId: field(z.string(), { description: "The tunnel id." }),
  domain: field(z.string(), { description: "The tunnel domain." }),
  helmValues: field(z.record(z.string(), z.unknown()), { description: "Values for the tunnel stack's Helm chart; secrets are referenced by Secret name, never inlined." }),
  kubernetesSecrets: field(z.record(z.string(), z.unknown()), {
    description: "Manual mode: the Secrets' names, types and data (`tunnel-token`; `tls.crt`, `tls.key`). Secret.",
    secret: true,
  }),
  secretsChecksum: field(z.string(), { description: "Changes whenever the token rotates or the server certificate is re-issued: put it in a pod annotation to roll the pods." }),
  composeEnv: field(z.string(), { description: "The Compose `.env` text. Secret.", secret: true }),
  composeFiles: field(z.record(z.string(), z.string()), {
    description: "Compose files by relative path: `data/tunnel-token`, `data/tunnel-domain`, `data/tls.crt`, `data/tls.key`, `config/mcp-proxy.yaml`. Secret.",
    secret: true,
  }),
  proxyConfig: field(z.string(), { description: "The proxy's config.yaml (`/etc/mcp-gateway/config.yaml`)." }),
  mcpServerUrls: field(z.record(z.string(), z.string()), { description: "Per route, the URL to put in `mcp_servers` (`https://<subdomain>.<domain><mcpPath>`)." }),
});

export const tunnelDeploymentSchema = { typeName: "TunnelDeployment", inputs, outputs } satisfies ResourceSchema;
export type TunnelDeploymentInputs = z.input<typeof inputs>;
export type TunnelDeploymentSettings = z.output<typeof inputs>;
export const COMPONENT_TYPE = "mcp-tunnels:index:TunnelDeployment";
