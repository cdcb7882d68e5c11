import type * as pulumi from "@pulumi/pulumi";

/** A custom resource kind (`core/schemas/registry.ts`), which names its provider module. */
export type { ResourceKind } from "../../core/schemas/registry";

/**
 * The object Pulumi serializes into every resource's state. It captures only a module name: each
 * method loads the installed provider at call time, so state stays small, no client or credential
 * is ever serialized, and delete/refresh of old state run the code installed now.
 */
function forwardingProvider(kind: string): pulumi.dynamic.ResourceProvider {
  const modulePath = `pulumi-mcp-tunnels/provider/${kind}`;
  return {
    configure: async (req) => require(modulePath).configure(req),
    check: async (olds, news) => require(modulePath).provider.check(olds, news),
    diff: async (id, olds, news) => require(modulePath).provider.diff(id, olds, news),
    create: async (inputs) => require(modulePath).provider.create(inputs),
    read: async (id, props) => require(modulePath).provider.read(id, props),
    update: async (id, olds, news) => require(modulePath).provider.update(id, olds, news),
    delete: async (id, props) => require(modulePath).provider.delete(id, props),
  };
}

const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

/** One provider object per kind, so Pulumi serializes each kind once per program. */
export function serializedProviderFor(kind: string): pulumi.dynamic.ResourceProvider {
  let provider = providers.get(kind);
  if (!provider) {
    provider = forwardingProvider(kind);
    providers.set(kind, provider);
  }
  return provider;
}
