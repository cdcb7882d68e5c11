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
