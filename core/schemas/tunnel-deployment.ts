import { z } from "zod";
import { DEFAULT_AUDIENCE, DISPLAY_NAME_MAX_CHARS, TUNNEL_DOMAIN_SUFFIX, TUNNEL_ID_PATTERN } from "../contract/tunnels-api";
import { CHART, DEFAULT_ALLOWED_IPS, DEFAULT_IMAGES } from "../contract/deploy";
import { isIpv6Literal, parseIpv4, parseIpv4Range, rangeContains } from "../contract/ipv4-ranges";
import { KEY_ALGORITHMS, type KeyAlgorithm } from "../contract/key-algorithms";
import { field, messages, type CrossFieldRule, type ResourceSchema, type RuleFailure } from "./field";
import { MAX_VALIDITY_DAYS } from "./shared-fields";
import { WORKSPACE_ROLES } from "./federation-rule-binding";

/** A DNS label: what the proxy accepts as a route's subdomain. */
export const SUBDOMAIN_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/**
 * The proxy also takes a route key as the exact full hostname. One label below the tunnel's
 * domain is the only full form the wildcard server certificate covers, so that is the form
 * accepted; it is emitted as its label.
 */
export const FULL_HOSTNAME_ROUTE_PATTERN = new RegExp(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)\\.([a-z0-9]{8}${TUNNEL_DOMAIN_SUFFIX.replaceAll(".", "\\.")})$`);
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
      if (!SUBDOMAIN_PATTERN.test(subdomain) && !FULL_HOSTNAME_ROUTE_PATTERN.test(subdomain)) {
        ctx.addIssue({
          code: "custom",
          path: [subdomain],
          message: "route names must be a DNS label (lowercase a-z, 0-9 and -, at most 63 characters) or the full hostname <label>.<tunnel domain>",
        });
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
  allowedIps: field(
    z
      .array(z.string().superRefine((value, ctx) => {
        const problem = allowedIpProblem(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }))
      .min(1, "allowedIps must not be empty: omit it to keep the proxy's default (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)")
      .optional(),
    {
      description:
        "The proxy's `upstream.allowed_ips`: IPv4 addresses or CIDRs every upstream must resolve into. Setting it **replaces** the default (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); omit it to keep the default. Use the narrowest ranges; `127.0.0.0/8` only for local tests.",
    },
  ),
  disableIpValidation: field(z.boolean().optional(), {
    description: "The proxy's `upstream.disable_ip_validation`: turns off the SSRF defence. Exclusive with `allowedIps`; only `true` is emitted.",
  }),
  upstreamTls: field(
    z
      .strictObject({
        caCertificatePem: field(z.string().includes("-----BEGIN CERTIFICATE-----", { message: "upstreamTls.caCertificatePem must be PEM certificates (-----BEGIN CERTIFICATE-----)" }).optional(), {
          description: "CA bundle the proxy trusts for `https://` upstreams. Compose writes it to `data/upstream-ca.pem` (`upstream.tls.ca_file`); the chart has no documented mount for it.",
        }),
        includeSystemCas: field(z.boolean().optional(), { description: "The proxy's `upstream.tls.include_system_cas`: also trust the system CAs (publicly trusted upstream certificates)." }),
      })
      .optional(),
    { description: "Trust for `https://` upstreams: an `https://` route needs `caCertificatePem` or `includeSystemCas: true`, or the proxy has no trust anchor." },
  ),
  logLevel: field(z.enum(LOG_LEVELS, { error: `logLevel must be one of ${LOG_LEVELS.join(", ")}` }).default("info"), { description: "The proxy's `log_level`." }),
  images: field(
    z
      .strictObject({
        proxy: field(z.string().min(1).default(DEFAULT_IMAGES.proxy), { description: "The mcp-proxy image (also runs the setup component); the documented digest by default." }),
        cloudflared: field(z.string().min(1).default(DEFAULT_IMAGES.cloudflared), { description: "The cloudflared image; the documented digest by default." }),
      })
      .default({ proxy: DEFAULT_IMAGES.proxy, cloudflared: DEFAULT_IMAGES.cloudflared }),
    { description: "Compose images, pinned by digest (replace them to use a mirror). The chart's images are not configurable through documented values." },
  ),
  ca: field(certificatePolicy("ca").optional(), { description: "CertificateAuthority settings (manual mode): keyAlgorithm, validityDays, renewBeforeDays, rotation." }),
  serverCertificate: field(certificatePolicy("serverCertificate").optional(), {
    description: "ServerCertificate settings (manual mode): keyAlgorithm, validityDays, renewBeforeDays, rotation.",
  }),
  token: field(
    z
      .strictObject({
        rotation: field(z.union([z.string(), z.number()]).optional(), {
          description:
            "Changing it rotates the token on the next `pulumi up`. In programmatic mode it is `tunnel.tokenVersion` and the setup's `--token-version`: a whole number that only increases (default 1).",
        }),
        rotateEveryDays: field(days("token.rotateEveryDays").optional(), { description: "Manual mode: rotate automatically this many days after the last rotation." }),
        reason: field(z.string().max(1024, "token.reason must be at most 1024 characters").optional(), { description: "Manual mode: recorded in the tunnel's audit log with each rotation." }),
      })
      .optional(),
    { description: "Token settings: rotation, and in manual mode rotateEveryDays and reason." },
  ),
  federationRuleId: field(z.string().regex(/^fdrl_[A-Za-z0-9_]+$/, "federationRuleId must be a federation rule id (fdrl_…)").optional(), {
    description: "Programmatic mode: the console-created rule with scope `workspace:manage_tunnels`.",
  }),
  workspaceId: field(z.string().regex(/^(wrkspc_[A-Za-z0-9_]+|default)$/, "workspaceId must be a workspace id (wrkspc_…)").optional(), {
    description: "Programmatic mode: the tunnel's workspace.",
  }),
  workspaceRole: field(z.enum(WORKSPACE_ROLES).optional(), { description: "Programmatic mode: role if the binding adds the service account to the workspace." }),
  audience: field(z.string().min(1).default(DEFAULT_AUDIENCE), {
    description: "Programmatic mode: `api.wif.audience` (default `api.anthropic.com`); it must equal the federation rule's audience byte for byte.",
  }),
  tunnelTokenSecretName: field(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "tunnelTokenSecretName must be a Kubernetes object name").default(CHART.defaultSecretNames.tunnelToken), {
    description: "Manual mode: name of the Opaque Secret holding key `tunnel-token` (`external.tunnelTokenSecretName`).",
  }),
  serverCertSecretName: field(z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "serverCertSecretName must be a Kubernetes object name").default(CHART.defaultSecretNames.serverCertificate), {
    description: "Manual mode: name of the Opaque Secret holding keys `tls.crt` and `tls.key` (`external.serverCertSecretName`).",
  }),
});

const outputs = z.object({
  tunnelId: field(z.string(), { description: "The tunnel id." }),
  domain: field(z.string(), { description: "The tunnel domain." }),
  helmValues: field(z.record(z.string(), z.unknown()), {
    description:
      "A complete values file for the chart (2.0.x), with only documented keys in the mode that reads them; secrets are referenced by Secret name, never inlined. Pass it whole on every upgrade (never `--reuse-values`).",
  }),
  kubernetesSecrets: field(z.record(z.string(), z.unknown()), {
    description: "Manual mode: the two Opaque Secrets the chart reads (`tunnelToken`: key `tunnel-token`; `serverCert`: keys `tls.crt`, `tls.key`), each `{name, type, stringData}`. Create them before the release. Secret.",
    secret: true,
  }),
  secretsChecksum: field(z.string(), {
    description:
      "Changes exactly when the pods must restart to pick up a credential: the token rotates or the server certificate is re-issued (manual), or tunnel.tokenVersion changes (programmatic). Put it in a pod-template annotation of the chart's Deployment (a `DeploymentPatch`), as `kubectl rollout restart` does.",
  }),
  composeEnv: field(z.string(), { description: "The Compose project's `.env` (manual: `TUNNEL_TOKEN`, read by Compose for cloudflared only). Secret.", secret: true }),
  composeProject: field(z.record(z.string(), z.unknown()), {
    description:
      "The whole Compose project: `files` (relative path → `{content, mode, owner?, modeWithoutOwner?}`: `docker-compose.yml`, `.env`, `config/mcp-proxy.yaml`, `data/tls.crt`, `data/tls.key`) and `directories`. Write it with `DeploymentDirectory`. Secret.",
    secret: true,
  }),
  proxyConfig: field(z.string(), { description: "The proxy's config.yaml as Compose mounts it at `/etc/mcp-gateway/config.yaml`." }),
  mcpServerUrls: field(z.record(z.string(), z.string()), { description: "Per route, the URL to put in `mcp_servers` (`https://<subdomain>.<domain><mcpPath>`)." }),
});

/** Inputs that earlier releases took and the contract now fixes; each says what replaced it. */
export const REMOVED_INPUTS: Record<string, string> = {
  listenAddr: "listenAddr was removed: cloudflared forwards to localhost:8080, so the proxy always listens on :8080 (and the chart sets it itself)",
  tlsDir: "tlsDir was removed: Compose mounts data/ at /data, where the proxy config now points; the chart sets the TLS paths itself",
};

export function allowedIpProblem(value: string): string | undefined {
  if (isIpv6Literal(value)) return "allowedIps entries must be IPv4 addresses or CIDRs: the proxy dials upstreams over IPv4 only";
  const range = parseIpv4Range(value);
  if (!range) return "allowedIps entries must be IPv4 addresses or CIDRs such as 10.0.0.0/8 or 10.0.0.5";
  if (range.prefix === 0) return "allowedIps must not contain 0.0.0.0/0: it disables the proxy's SSRF protection (set disableIpValidation if that is really meant)";
  return undefined;
}

const upstreamOf = (route: unknown): string | undefined => (typeof route === "string" ? route : (route as { upstream?: string } | undefined)?.upstream);

/** The cross-field rules of the contract, at preview. */
const rules: CrossFieldRule[] = [
  (known) => {
    if (known.mode !== "programmatic") return [];
    const failures: RuleFailure[] = [];
    if (!known.federationRuleId) failures.push({ property: "federationRuleId", reason: "programmatic mode needs the console-created federation rule (fdrl_…) with scope workspace:manage_tunnels" });
    if (!known.workspaceId) failures.push({ property: "workspaceId", reason: "programmatic mode needs the tunnel's workspace id (wrkspc_…)" });
    if (known.ca !== undefined) failures.push({ property: "ca", reason: "ca has no effect in programmatic mode: the setup component generates and registers the CA; remove it" });
    const server = known.serverCertificate as Record<string, unknown> | undefined;
    for (const key of Object.keys(server ?? {}).filter((name) => name !== "renewBeforeDays")) {
      failures.push({ property: `serverCertificate.${key}`, reason: `serverCertificate.${key} has no effect in programmatic mode: the setup component issues the certificate; only renewBeforeDays (serverCert.renewBefore) applies` });
    }
    const token = known.token as Record<string, unknown> | undefined;
    for (const key of ["rotateEveryDays", "reason"].filter((name) => token?.[name] !== undefined)) {
      failures.push({ property: `token.${key}`, reason: `token.${key} has no effect in programmatic mode: rotate by raising token.rotation (tunnel.tokenVersion)` });
    }
    if (token?.rotation !== undefined && !/^[1-9]\d*$/.test(String(token.rotation))) {
      failures.push({ property: "token.rotation", reason: "token.rotation must be a whole number from 1 in programmatic mode: it becomes --token-version, which only increases" });
    }
    return failures;
  },
  (known) =>
    known.allowedIps !== undefined && known.disableIpValidation !== undefined
      ? [{ property: "disableIpValidation", reason: "disableIpValidation and allowedIps are mutually exclusive in the proxy config: keep one" }]
      : [],
  (known) => {
    const routes = (known.routes ?? {}) as Record<string, unknown>;
    const tls = known.upstreamTls as { caCertificatePem?: string; includeSystemCas?: boolean } | undefined;
    const allowed = ((known.allowedIps as string[] | undefined) ?? DEFAULT_ALLOWED_IPS).map((entry) => parseIpv4Range(entry)).filter((range) => range !== undefined);
    const failures: RuleFailure[] = [];
    for (const [name, route] of Object.entries(routes)) {
      const upstream = upstreamOf(route);
      if (!upstream || upstreamProblem(upstream)) continue;
      const url = new URL(upstream);
      if (url.protocol === "https:" && !tls?.caCertificatePem && tls?.includeSystemCas !== true) {
        failures.push({ property: `routes.${name}`, reason: `routes.${name} is https but the proxy has no trust anchor: set upstreamTls.caCertificatePem (your upstream's CA) or upstreamTls.includeSystemCas: true` });
      }
      const host = url.hostname;
      if (isIpv6Literal(host)) {
        failures.push({ property: `routes.${name}`, reason: `routes.${name} names an IPv6 address: the proxy dials upstreams over IPv4 only` });
        continue;
      }
      if (known.disableIpValidation === true) continue;
      const address = parseIpv4(host === "localhost" ? "127.0.0.1" : host);
      if (address !== undefined && !allowed.some((range) => rangeContains(range, address))) {
        failures.push({
          property: `routes.${name}`,
          reason: `routes.${name} points at ${host}, outside ${known.allowedIps ? "allowedIps" : "the proxy's default allowed range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"}: the proxy would refuse it (IP validation failed); add the narrowest CIDR that covers it to allowedIps — note that setting allowedIps replaces the default`,
        });
      }
    }
    return failures;
  },
];

export const tunnelDeploymentSchema = { typeName: "TunnelDeployment" as const, inputs, outputs, rules } satisfies ResourceSchema;
export type TunnelDeploymentInputs = z.input<typeof inputs>;
export type TunnelDeploymentSettings = z.output<typeof inputs>;
export const COMPONENT_TYPE = "mcp-tunnels:index:TunnelDeployment";
