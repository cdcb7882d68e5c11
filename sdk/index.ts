export { Tunnel, type TunnelArgs } from "./resources/tunnel";
export { TunnelCertificate, type TunnelCertificateArgs } from "./resources/tunnel-certificate";
export { TunnelToken, type TunnelTokenArgs } from "./resources/tunnel-token";
export { FederationRuleBinding, type FederationRuleBindingArgs } from "./resources/federation-rule-binding";
export { CertificateAuthority, type CertificateAuthorityArgs } from "./resources/certificate-authority";
export { ServerCertificate, type ServerCertificateArgs } from "./resources/server-certificate";
export type { KeyAlgorithm } from "./pki/key-algorithm";
export { TunnelDeployment, TunnelDeploymentSettingsError, type TunnelDeploymentArgs } from "./resources/tunnel-deployment";
