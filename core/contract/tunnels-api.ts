// The Tunnels API contract (docs/tunnels-api.md) as named values. The emulator and the client
// both read these, so a decided value changes in one line.

export const ANTHROPIC_VERSION = "2023-06-01";
export const TUNNELS_BETA = "mcp-tunnels-2026-06-22";
export const PRODUCTION_BASE_URL = "https://api.anthropic.com";

export const SCOPE_MANAGE_TUNNELS = "workspace:manage_tunnels";
export const SCOPE_ORG_ADMIN = "org:admin";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
export const TOKEN_EXCHANGE_PATH = "/v1/oauth/token";
export const DEFAULT_AUDIENCE = "api.anthropic.com";

/** [decided] 10 non-archived tunnels per organization, across all workspaces. */
export const MAX_ACTIVE_TUNNELS_PER_ORGANIZATION = 10;
/** At most two active CA certificates per tunnel, so rotation can overlap. */
export const MAX_ACTIVE_CERTIFICATES_PER_TUNNEL = 2;
export const MAX_CA_CERTIFICATE_PEM_CHARS = 8192;
export const MAX_ROTATE_REASON_CHARS = 1024;
export const DISPLAY_NAME_MAX_CHARS = 255;
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;
export const MAX_IDENTITY_TOKEN_BYTES = 16 * 1024;

export const TUNNEL_LIST_LIMIT = { min: 1, max: 1000, default: 20 } as const;
export const ADMIN_LIST_LIMIT = { min: 1, max: 100, default: 20 } as const;

export const DEFAULT_RULE_TOKEN_LIFETIME_SECONDS = 3600;
export const DEFAULT_ISSUER_MAX_JWT_LIFETIME_SECONDS = 3600;
export const MIN_ACCESS_TOKEN_LIFETIME_SECONDS = 60;
export const JWT_CLOCK_SKEW_SECONDS = 30;

export const ID_PREFIX = {
  tunnel: "tnl_",
  certificate: "tcrt_",
  tunnelToken: "ttkn_",
  federationRule: "fdrl_",
  federationIssuer: "fdis_",
  serviceAccount: "svac_",
  workspace: "wrkspc_",
  request: "req_",
} as const;

export const TUNNEL_DOMAIN_SUFFIX = ".tunnel.anthropic.com";
export const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/** `tnl_`/`tcrt_` + 24 base58 characters. */
export const OBJECT_ID_PATTERN = (prefix: string): RegExp => new RegExp(`^${prefix}[${BASE58_ALPHABET}]{24}$`);
export const TUNNEL_ID_PATTERN = OBJECT_ID_PATTERN(ID_PREFIX.tunnel);
export const CERTIFICATE_ID_PATTERN = OBJECT_ID_PATTERN(ID_PREFIX.certificate);
export const TUNNEL_TOKEN_ID_PATTERN = /^ttkn_[0-9a-f]{64}$/;
export const TUNNEL_DOMAIN_PATTERN = /^[a-z0-9]{8}\.tunnel\.anthropic\.com$/;
export const FEDERATION_RULE_ID_PATTERN = /^fdrl_[A-Za-z0-9_]+$/;
export const WORKSPACE_ID_PATTERN = /^(wrkspc_[A-Za-z0-9_]+|default)$/;
export const ORGANIZATION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const ERROR_TYPE_BY_STATUS = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  409: "conflict_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  503: "api_error",
  529: "overloaded_error",
} as const;

/** Certificate rules, each rejection message names one of these. */
export const CA_CERTIFICATE_RULES = {
  singleCertificate: "exactly one CERTIFICATE block",
  noPrivateKey: "no private-key material",
  maxLength: `at most ${MAX_CA_CERTIFICATE_PEM_CHARS} characters`,
  parses: "parses as X.509",
  basicConstraintsCa: "BasicConstraints CA:TRUE (critical)",
  subjectKeyIdentifier: "SubjectKeyIdentifier present",
  keyCertSign: "KeyUsage includes keyCertSign",
  validity: "currently within validity",
  keyStrength: "RSA >= 2048 or ECDSA >= P-256",
  signatureHash: "signature SHA-256 or stronger",
} as const;
export type CaCertificateRule = keyof typeof CA_CERTIFICATE_RULES;

/**
 * `anthropic-beta` the official SDK sends on its jwt-bearer exchange (with `OAUTH_BETA`). Accepted,
 * never required: the public WIF guides' raw exchange sends no beta and succeeds.
 */
export const FEDERATION_BETA = "oidc-federation-2026-04-01";
/** `anthropic-beta` the official SDK adds to bearer-authenticated calls; accepted, never required. */
export const OAUTH_BETA = "oauth-2025-04-20";

/** [decided] `retry-after` seconds on 429 and 529. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * [decided] Stable fragments of 409 messages, so a client can tell the conflicts apart without
 * parsing prose: each 409 message starts with one of these.
 */
export const CONFLICT_MESSAGE_PREFIX = {
  tunnelLimit: "tunnel limit reached",
  certificateLimit: "certificate limit reached",
  duplicateCertificate: "certificate already active",
  tunnelArchived: "tunnel is archived",
} as const;
