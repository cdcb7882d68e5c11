import type { ResourceSchema } from "./field";
import { certificateAuthoritySchema } from "./certificate-authority";
import { deploymentDirectorySchema } from "./deployment-directory";
import { federationRuleBindingSchema } from "./federation-rule-binding";
import { serverCertificateSchema } from "./server-certificate";
import { tunnelSchema } from "./tunnel";
import { tunnelCertificateSchema } from "./tunnel-certificate";
import { tunnelDeploymentSchema } from "./tunnel-deployment";
import { tunnelTokenSchema } from "./tunnel-token";

/**
 * Every custom resource of the package, in the order a reader meets them: the tunnel, what is
 * registered on it, then the local PKI, the WIF binding and the files a deployment reads. schema.json and the reference docs
 * enumerate this list, so a resource missing here is missing from both.
 */
export const RESOURCE_SCHEMAS: readonly ResourceSchema[] = [
  tunnelSchema,
  tunnelCertificateSchema,
  tunnelTokenSchema,
  certificateAuthoritySchema,
  serverCertificateSchema,
  federationRuleBindingSchema,
  deploymentDirectorySchema,
];

/** Component resources (`isComponent: true` in schema.json): programs, not providers. */
export const COMPONENT_SCHEMAS: readonly ResourceSchema[] = [tunnelDeploymentSchema];

/**
 * Names of the shared types (nested objects and enums) in schema.json, by the field path where
 * they appear (`TypeName.field`, or `TypeName.field.nested`). Without an entry, a type is named
 * after its field (`keyAlgorithm` → `KeyAlgorithm`); types that share a name must be identical.
 */
export const SHARED_TYPE_NAMES: Readonly<Record<string, string>> = {
  "TunnelDeployment.mode": "DeploymentMode",
  "TunnelDeployment.routes": "RouteSpec",
  "TunnelDeployment.ca": "CertificatePolicy",
  "TunnelDeployment.serverCertificate": "CertificatePolicy",
  "TunnelDeployment.token": "TokenPolicy",
};
