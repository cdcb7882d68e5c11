import type * as pulumi from "@pulumi/pulumi";
import { providerRuntime } from "./runtime";

/** What every `provider/<kind>.ts` module exports for the forwarding provider in state. */
export interface ProviderModule {
  provider: pulumi.dynamic.ResourceProvider;
  configure(req: pulumi.dynamic.ConfigureRequest): Promise<void>;
}

export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  providerRuntime.configure(req);
}

/** `pulumi refresh` reports a resource gone when read answers with an empty id. */
export const GONE: pulumi.dynamic.ReadResult = { id: "", props: {} };

/**
 * The engine prints a failed property's value next to the reason ("property X value {…} has a
 * problem"), which would show a private key pasted into a certificate field. Failures therefore
 * reach the engine without a property; the reason starts with the property's name instead.
 */
export function engineFailure(failure: pulumi.dynamic.CheckFailure): pulumi.dynamic.CheckFailure {
  const { property, reason } = failure;
  const named = property === "" || reason.startsWith(`${property} `) || reason.startsWith(`${property}:`) ? reason : `${property}: ${reason}`;
  return { property: "", reason: named };
}

/** The provider object a `provider/<kind>` module exports for the engine. */
export function forEngine<P extends pulumi.dynamic.ResourceProvider>(provider: P): pulumi.dynamic.ResourceProvider {
  return {
    check: async (olds, news) => {
      const result = await provider.check!(olds, news);
      return { inputs: result.inputs, failures: (result.failures ?? []).map(engineFailure) };
    },
    diff: (id, olds, news) => provider.diff!(id, olds, news),
    create: (inputs) => provider.create(inputs),
    read: (id, props) => provider.read!(id, props),
    update: (id, olds, news) => provider.update!(id, olds, news),
    delete: (id, props) => provider.delete!(id, props),
  };
}
