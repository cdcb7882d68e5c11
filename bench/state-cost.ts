import { SERIALIZED_PROVIDER_KEY } from "../core/schemas/engine-values";

/** What a stack's state costs, read from `pulumi stack export` (secrets stay encrypted, as stored). */
export interface StateCost {
  /** Resources the engine counted in its summary (stack, components and custom resources). */
  resources: number;
  stateBytes: number;
  stateBytesPerResource: number;
  dynamicResources: number;
  /** Largest `__provider` value of one resource (one copy). */
  serializedProviderBytes: number;
  /** Every `__provider` copy in state (inputs and outputs), per dynamic resource. */
  serializedProviderBytesInStatePerResource: number;
}

interface ExportedResource {
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

function providerBytes(properties: Record<string, unknown> | undefined): number {
  const value = properties?.[SERIALIZED_PROVIDER_KEY];
  return typeof value === "string" ? Buffer.byteLength(value) : 0;
}

/** `exportText` is the CLI's output as is; `resources` the engine summary's count. */
export function stateCost(exportText: string, resources: number): StateCost {
  const exported = JSON.parse(exportText) as { deployment?: { resources?: ExportedResource[] } };
  const stateBytes = Buffer.byteLength(JSON.stringify(exported));
  const dynamic = (exported.deployment?.resources ?? []).filter((r) => providerBytes(r.outputs) > 0 || providerBytes(r.inputs) > 0);
  const copies = dynamic.map((r) => providerBytes(r.inputs) + providerBytes(r.outputs));
  const single = dynamic.map((r) => Math.max(providerBytes(r.inputs), providerBytes(r.outputs)));
  return {
    resources,
    stateBytes,
    stateBytesPerResource: Math.round(stateBytes / Math.max(resources, 1)),
    dynamicResources: dynamic.length,
    serializedProviderBytes: single.length ? Math.max(...single) : 0,
    serializedProviderBytesInStatePerResource: copies.length ? Math.round(copies.reduce((a, b) => a + b, 0) / copies.length) : 0,
  };
}
