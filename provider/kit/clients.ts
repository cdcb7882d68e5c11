import { AdminClient, TunnelsClient } from "../../sdk/api";
import { providerRuntime, type ProviderRuntime } from "./runtime";

/** How a provider reaches the API; tests hand in clients pointed at an emulator. */
export interface ApiClients {
  tunnels(): TunnelsClient;
  admin(): AdminClient;
}

/**
 * Clients built on first use in the provider process, from stack config and the environment as
 * they are then. Never serialized into state.
 */
export function clientsFrom(runtime: ProviderRuntime = providerRuntime): ApiClients {
  let tunnels: TunnelsClient | undefined;
  let admin: AdminClient | undefined;
  return {
    tunnels: () => (tunnels ??= new TunnelsClient({ env: runtime.env() })),
    admin: () => (admin ??= new AdminClient({ env: runtime.env() })),
  };
}
