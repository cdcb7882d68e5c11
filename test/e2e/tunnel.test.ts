import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tunnels from "pulumi-mcp-tunnels";
import { TestEmulator } from "../harness/emulator";
import { expectEmptyPlan, previewPlan, stepFor } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator?.close());

describe("Tunnel on the real engine", () => {
  it("creates, refreshes clean, replaces on rename (archiving the old one) and archives on destroy", async () => {
    let displayName = "e2e-tunnel-a";
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        const tunnel = new tunnels.Tunnel("edge", { displayName });
        return { tunnelId: tunnel.tunnelId, domain: tunnel.domain };
      },
    });

    const up = await stack.up();
    const firstId = up.outputs.tunnelId?.value as string;
    expect(firstId).toMatch(/^tnl_/);
    expect(up.outputs.domain?.value).toMatch(/^[a-z0-9]{8}\.tunnel\.anthropic\.com$/);
    expect((await emulator.tunnels()).map((t) => [t.id, t.display_name])).toContainEqual([firstId, "e2e-tunnel-a"]);

    await expectEmptyPlan(stack);
    const refresh = await stack.refresh();
    expect(refresh.summary.resourceChanges).not.toHaveProperty("update");
    expect(refresh.summary.resourceChanges).not.toHaveProperty("delete");
    await expectEmptyPlan(stack);

    displayName = "e2e-tunnel-b";
    const rename = await previewPlan(stack);
    expect(stepFor(rename, "edge")).toMatchObject({ op: "replace", replaceReasons: ["displayName"] });

    const renamed = await stack.up();
    const secondId = renamed.outputs.tunnelId?.value as string;
    expect(secondId).not.toBe(firstId);
    const all = await emulator.tunnels(true);
    expect(all.find((t) => t.id === firstId)?.archived_at).not.toBeNull();

    await stack.destroy();
    expect((await emulator.tunnels()).map((t) => t.id)).not.toContain(secondId);
    const archives = (await emulator.audit()).filter((e) => e.action === "tunnel.archive").map((e) => e.tunnel_id);
    expect(archives).toEqual(expect.arrayContaining([firstId, secondId]));
  });

  it("drops a tunnel archived out of band on refresh, so the next up creates a new one", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => ({ tunnelId: new tunnels.Tunnel("drift", { displayName: "e2e-drift" }).tunnelId }),
    });
    const { outputs } = await stack.up();
    const tunnelId = outputs.tunnelId?.value as string;
    await emulator.api("POST", `/v1/tunnels/${tunnelId}/archive`);

    const refresh = await stack.refresh();
    expect(refresh.summary.resourceChanges?.delete).toBe(1);
    expect(stepFor(await previewPlan(stack), "drift").op).toBe("create");
    await stack.destroy();
  });

  it("adopts an existing tunnel instead of creating one, and refuses a name that does not match", async () => {
    const existing = await emulator.api<{ id: string }>("POST", "/v1/tunnels", { display_name: "e2e-adopted" });
    let displayName = "e2e-not-its-name";
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => ({ tunnelId: new tunnels.Tunnel("adopted", { displayName, adoptTunnelId: existing.id }).tunnelId }),
    });
    await expect(stack.up()).rejects.toThrow(/set displayName to exactly that/);

    displayName = "e2e-adopted";
    const before = (await emulator.tunnels()).length;
    const { outputs } = await stack.up();
    expect(outputs.tunnelId?.value).toBe(existing.id);
    expect((await emulator.tunnels()).length).toBe(before);
    await expectEmptyPlan(stack);
    await stack.destroy();
  });
});
