import { describe, expect, it } from "vitest";
import type { AdminClient, TunnelsClient } from "../../core/api";
import { clientsFrom, type ClientFactory } from "./clients";
import { ProviderRuntime } from "./runtime";

const counting = () => {
  const made = { tunnels: 0, admin: 0 };
  const factory: ClientFactory = {
    tunnels: () => ({ n: ++made.tunnels }) as unknown as TunnelsClient,
    admin: () => ({ n: ++made.admin }) as unknown as AdminClient,
  };
  return { made, factory };
};

describe("clientsFrom", () => {
  it("gives every resource kind of a provider process the same clients, so one identity token is exchanged once", () => {
    const { made, factory } = counting();
    const runtime = new ProviderRuntime();
    const forTunnels = clientsFrom(runtime, factory);
    const forTokens = clientsFrom(runtime, factory);
    expect(forTokens.tunnels()).toBe(forTunnels.tunnels());
    expect(forTokens.admin()).toBe(forTunnels.admin());
    expect(made).toEqual({ tunnels: 1, admin: 1 });
    expect(clientsFrom(new ProviderRuntime(), factory).tunnels()).not.toBe(forTunnels.tunnels());
  });

  it("loads nothing heavy until a client is needed", () => {
    const { made, factory } = counting();
    clientsFrom(new ProviderRuntime(), factory);
    expect(made).toEqual({ tunnels: 0, admin: 0 });
  });
});
