import type { ResourceSchema } from "./field";
import { certificateAuthoritySchema } from "./certificate-authority";
import { deploymentDirectorySchema } from "./deployment-directory";
import { federationRuleBindingSchema } from "./federation-rule-binding";
import { serverCertificateSchema } from "./server-certificate";
import { tunnelSchema } from "./tunnel";
import { tunnelCertificateSchema } from "./tunnel-certificate";
import { tunnelDeploymentSchema } from "./tunnel-deployment";
import { tunnelTokenSchema } from "./tunnel-token";

/** The sections of `mcp-tunnels plan`, which lists each kind under the one its entry names. */
export type PlanSection = "tunnels" | "tokens" | "registrations" | "authorities" | "serverCertificates" | "bindings";

/**
 * One kind of resource, declared once. The kebab-case `kind` is the basename of every file that
 * belongs to it: `core/schemas/<kind>.ts`, `provider/<kind>.ts` (custom resources; the forwarding
 * provider in state requires `pulumi-mcp-tunnels/provider/<kind>`), `sdk/resources/<kind>.ts`
 * (the class) and `sdk/resources/<kind>.md` (its prose, which becomes `docs/reference/<kind>.md`).
 */
export interface ResourceKindEntry<K extends string = string, S extends ResourceSchema = ResourceSchema, C extends boolean = boolean> {
  kind: K;
  schema: S;
  /** A component (built by the program, no provider) or a custom resource. */
  component: C;
  /** Where `mcp-tunnels plan` lists it; a kind without one is left out of the summary. */
  planSection: PlanSection | undefined;
}

export function customResource<const K extends string, S extends ResourceSchema>(kind: K, schema: S, planSection?: PlanSection): ResourceKindEntry<K, S, false> {
  return { kind, schema, component: false, planSection };
}

export function componentResource<const K extends string, S extends ResourceSchema>(kind: K, schema: S): ResourceKindEntry<K, S, true> {
  return { kind, schema, component: true, planSection: undefined };
}

/**
 * Every resource kind of the package, in the order a reader meets them: the tunnel, what is
 * registered on it, then the local PKI, the WIF binding, the files a deployment reads, and the
 * component that wires them. schema.json, the reference docs, the plan summary's sections and the
 * forwarding providers all enumerate this list.
 */
export const RESOURCE_REGISTRY = [
  customResource("tunnel", tunnelSchema, "tunnels"),
  customResource("tunnel-certificate", tunnelCertificateSchema, "registrations"),
  customResource("tunnel-token", tunnelTokenSchema, "tokens"),
  customResource("certificate-authority", certificateAuthoritySchema, "authorities"),
  customResource("server-certificate", serverCertificateSchema, "serverCertificates"),
  customResource("federation-rule-binding", federationRuleBindingSchema, "bindings"),
  customResource("deployment-directory", deploymentDirectorySchema),
  componentResource("tunnel-deployment", tunnelDeploymentSchema),
] as const;

type Entry = (typeof RESOURCE_REGISTRY)[number];
/** The custom resource kinds: each has a provider module. */
export type ResourceKind = Extract<Entry, { component: false }>["kind"];
export type SchemaOfKind<K extends Entry["kind"]> = Extract<Entry, { kind: K }>["schema"];

export function entryOf<K extends Entry["kind"]>(kind: K): Extract<Entry, { kind: K }> {
  const entry = RESOURCE_REGISTRY.find((candidate): candidate is Extract<Entry, { kind: K }> => candidate.kind === kind);
  if (!entry) throw new Error(`no resource kind ${kind} in the registry`);
  return entry;
}

/** The type names (`Tunnel`, …, `TunnelDeployment`), as in schema.json's type tokens. */
export type ResourceTypeName = Entry["schema"]["typeName"];
