import type { AdminClient, TunnelsClient } from "../../core/api";
import { providerRuntime, type ProviderRuntime } from "./runtime";

/** How a provider reaches the API; tests hand in clients pointed at an emulator. */
export interface ApiClients {
  tunnels(): TunnelsClient;
  admin(): AdminClient;
}

export interface ClientFactory {
  tunnels(env: Record<string, string | undefined>): TunnelsClient;
  admin(env: Record<string, string | undefined>): AdminClient;
}

/**
 * Loads the API client (the Anthropic SDK and undici, ~0.2 s) on first use: the provider process
 * starts for every engine operation, and a no-change preview of most resources calls no API.
 */
const loadedOnFirstUse: ClientFactory = {
  tunnels: (env) => new (require("../../core/api") as typeof import("../../core/api")).TunnelsClient({ env }),
  admin: (env) => new (require("../../core/api") as typeof import("../../core/api")).AdminClient({ env }),
};

const perRuntime = new WeakMap<ProviderRuntime, ApiClients>();

/**
 * The clients of one provider process, built on first use from stack config and the environment
 * as they are then, and shared by every resource kind: a single-use identity token can be
 * exchanged once, so two clients racing to exchange it would have one of them refused.
 * Never serialized into state.
 */
export function clientsFrom(runtime: ProviderRuntime = providerRuntime, factory: ClientFactory = loadedOnFirstUse): ApiClients {
  let clients = perRuntime.get(runtime);
  if (!clients) {
    let tunnels: TunnelsClient | undefined;
    let admin: AdminClient | undefined;
    clients = {
      tunnels: () => (tunnels ??= factory.tunnels(runtime.env())),
      admin: () => (admin ??= factory.admin(runtime.env())),
    };
    perRuntime.set(runtime, clients);
  }
  return clients;
}
