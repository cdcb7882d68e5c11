export { TunnelsClient, TunnelOperations, CertificateOperations, type TunnelsClientOptions } from "./tunnels-client";
export {
  AdminClient,
  FederationRuleOperations,
  ServiceAccountOperations,
  WorkspaceMemberOperations,
  type AdminClientOptions,
} from "./admin-client";
export type { ApiClientOptions, Paginated } from "./api-session";
export { RETRY_BUDGET, DEFAULT_ATTEMPT_TIMEOUT_MS, longestCallMs, type RetryBudget, type RetryClock } from "./retry-budget";
export type { ApiTarget, EnvSource } from "./credentials";
export { TunnelsApiError, TUNNELS_ERROR_CODES, isTunnelsApiError, type TunnelsErrorCode, type TunnelsErrorSource } from "./errors";
export type {
  Tunnel,
  TunnelCertificate,
  TunnelToken,
  FederationRule,
  ServiceAccount,
  WorkspaceMember,
  CreateTunnelInput,
  ListTunnelsInput,
  ListCertificatesInput,
  RotateTokenInput,
  CreateCertificateInput,
  AddWorkspaceMemberInput,
  ListAdminInput,
} from "./objects";
export { certificateFingerprint } from "./certificate-fingerprint";
export { CACHE_DIR_VARIABLE } from "./token-cache-path";
