import { AdminClient, TunnelsClient } from "../../sdk/api";
import { providerRuntime, type ProviderRuntime } from "./runtime";

/** How a provider reaches the API; tests hand in clients pointed at an emulator. */
export interface ApiClients {
  tunnels(): TunnelsClient;
  admin(): AdminClient;
}

const perRuntime = new WeakMap<ProviderRuntime, ApiClients>();

/**
 * The clients of one provider process, built on first use from stack config and the environment
 * as they are then, and shared by every resource kind: a single-use identity token can be
 * exchanged once, so two clients racing to exchange it would have one of them refused.
 * Never serialized into state.
 */
export function clientsFrom(runtime: ProviderRuntime = providerRuntime): ApiClients {
  let clients = perRuntime.get(runtime);
  if (!clients) {
    let tunnels: TunnelsClient | undefined;
    let admin: AdminClient | undefined;
    clients = {
      tunnels: () => (tunnels ??= new TunnelsClient({ env: runtime.env() })),
      admin: () => (admin ??= new AdminClient({ env: runtime.env() })),
    };
    perRuntime.set(runtime, clients);
  }
  return clients;
}
