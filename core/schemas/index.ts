import type { ResourceSchema } from "./field";
import { RESOURCE_REGISTRY } from "./registry";

export { RESOURCE_REGISTRY, entryOf, type PlanSection, type ResourceKind, type ResourceKindEntry, type SchemaOfKind } from "./registry";

/** The custom resources' schemas, in registry order (schema.json and the reference docs list them so). */
export const RESOURCE_SCHEMAS: readonly ResourceSchema[] = RESOURCE_REGISTRY.filter((entry) => !entry.component).map((entry) => entry.schema);

/** Component resources (`isComponent: true` in schema.json): programs, not providers. */
export const COMPONENT_SCHEMAS: readonly ResourceSchema[] = RESOURCE_REGISTRY.filter((entry) => entry.component).map((entry) => entry.schema);

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
