import { describe, expect, it } from "vitest";
import { clientsFrom } from "./clients";
import { ProviderRuntime } from "./runtime";

describe("clientsFrom", () => {
  it("gives every resource kind of a provider process the same clients, so one identity token is exchanged once", () => {
    const runtime = new ProviderRuntime();
    const forTunnels = clientsFrom(runtime);
    const forTokens = clientsFrom(runtime);
    expect(forTokens.tunnels()).toBe(forTunnels.tunnels());
    expect(forTokens.admin()).toBe(forTunnels.admin());
    expect(clientsFrom(new ProviderRuntime()).tunnels()).not.toBe(forTunnels.tunnels());
  });
});
