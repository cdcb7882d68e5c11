// Values the API contract (docs/tunnels-api.md) leaves to the emulator. Values the client also
// needs live in core/contract/tunnels-api.ts; these only shape the emulator's own behaviour.

export const CONTROL_PLANE_PREFIX = "/_emulator/";
export const OIDC_ISSUER_PATH = "/_emulator/oidc";

/** Oldest accepted `anthropic-version`; any later `YYYY-MM-DD` is accepted (SDK 1.14 sends 2026-10-21). */
export const OLDEST_ANTHROPIC_VERSION = "2023-06-01";

export const REQUEST_LOG_CAPACITY = 10_000;
export const AUDIT_LOG_CAPACITY = 10_000;

export const DEFAULT_ID_TOKEN_TTL_SECONDS = 600;
export const MAX_ID_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/** Bounds for values an admin may set. */
export const TOKEN_LIFETIME_SECONDS_RANGE = { min: 60, max: 86_400 } as const;
export const MAX_JWT_LIFETIME_SECONDS_RANGE = { min: 60, max: 86_400 } as const;
export const ADMIN_NAME_MAX_CHARS = 255;
export const ADMIN_DESCRIPTION_MAX_CHARS = 1024;

/** Size bounds for free-form request fields, so no field can make the state file balloon. */
export const FIELD_LIMITS = {
  keyChars: 256,
  textChars: 1024,
  urlChars: 2048,
  pemChars: 16_384,
  inlineJwksKeys: 20,
  listItems: 100,
  audiences: 10,
} as const;

export const ASYMMETRIC_JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

export const ACCESS_TOKEN_PREFIX = "sk-ant-oat01-";
export const TUNNEL_TOKEN_PREFIX = "mcpt_";

/** Expired access tokens and used jtis are forgotten this long after expiry (clock offsets may go back). */
export const PRUNE_GRACE_SECONDS = 30 * 24 * 3600;

export const FAULT_MAX_LATENCY_MS = 60_000;
export const FAULT_MAX_RULES = 100;
export const PROBE_TIMEOUT_MS = 5_000;
export const REMOTE_JWKS_TIMEOUT_MS = 5_000;
export const REMOTE_JWKS_CACHE_MS = 5 * 60_000;

export const WORKSPACE_ROLES = ["workspace_admin", "workspace_developer", "workspace_restricted_developer", "workspace_user"] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];
/** Role reported for the implicit membership of every service account in the default workspace. */
export const IMPLICIT_DEFAULT_WORKSPACE_ROLE: WorkspaceRole = "workspace_developer";

export const STATE_FILE_FORMAT = "mcp-tunnels-emulator-state";
export const STATE_FILE_VERSION = 1;

/** Where connectors register (a WebSocket upgrade) and what the edge reports as its location. */
export const EDGE_CONNECT_PATH = "/_emulator/edge/connect";
/** Where connectors register, for an emulator at `baseUrl`. */
export const edgeUrlFor = (baseUrl: string): string => `${baseUrl.replace(/^http/, "ws")}${EDGE_CONNECT_PATH}`;
export const EDGE_LOCATION = "emu01";
/** How long POST /_emulator/mcp waits in all, unless the body asks for less or more. */
export const MCP_CALL_TIMEOUT_MS = 10_000;
export const MCP_CALL_MAX_TIMEOUT_MS = 60_000;
