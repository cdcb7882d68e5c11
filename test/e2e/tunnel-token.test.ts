import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import * as tunnels from "pulumi-mcp-tunnels";
import { TestEmulator } from "../harness/emulator";
import { expectEmptyPlan, previewPlan, stepFor } from "../harness/plan";
import { Sink } from "../harness/sink";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator?.close());

const DAY = 86_400;

describe("TunnelToken on the real engine", () => {
  it("shows a rotation in preview with its consumer updating, rotates on up, and keeps the token out of plaintext state", async () => {
    const settings = { rotation: "1", reason: undefined as string | undefined };
    const { stack, stateAtRest } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        const tunnel = new tunnels.Tunnel("edge", { displayName: "e2e-token" });
        const token = new tunnels.TunnelToken("token", { tunnelId: tunnel.tunnelId, rotation: settings.rotation, ...(settings.reason ? { reason: settings.reason } : {}) });
        new Sink("connector-secret", { tunnelToken: token.token, tokenVersion: token.tokenId });
        return { tunnelId: tunnel.tunnelId, token: token.token, tokenId: token.tokenId };
      },
    });

    const up = await stack.up();
    const tunnelId = up.outputs.tunnelId?.value as string;
    const firstToken = up.outputs.token?.value as string;
    expect(up.outputs.token?.secret).toBe(true);
    expect(firstToken.length).toBeGreaterThan(10);

    await expectEmptyPlan(stack);
    await stack.refresh();
    await expectEmptyPlan(stack);
    const reveals = (await emulator.audit()).filter((e) => e.action === "token.reveal" && e.tunnel_id === tunnelId);
    expect(reveals).toHaveLength(1);

    expect(stateAtRest()).toContain(tunnelId);
    expect(stateAtRest()).not.toContain(firstToken);

    settings.rotation = "2";
    settings.reason = "quarterly rotation";
    await emulator.control("DELETE", "/_emulator/requests");
    const plan = await previewPlan(stack);
    expect(stepFor(plan, "token")).toMatchObject({ op: "update", changedInputs: ["reason", "rotation"] });
    expect(stepFor(plan, "connector-secret").op).toBe("update");
    expect(await emulator.mutatingRequests()).toEqual([]);

    const rotated = await stack.up();
    expect(rotated.outputs.token?.value).not.toBe(firstToken);
    expect(rotated.outputs.tokenId?.value).not.toBe(up.outputs.tokenId?.value);
    const rotations = (await emulator.audit()).filter((e) => e.action === "token.rotate" && e.tunnel_id === tunnelId);
    expect(rotations).toHaveLength(1);
    expect(JSON.stringify(rotations[0]?.detail)).toContain("quarterly rotation");
    await expectEmptyPlan(stack);
    await stack.destroy();
  });

  it("plans a scheduled rotation once rotateEveryDays have passed on the provider's clock", async () => {
    const hermetic = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        const tunnel = new tunnels.Tunnel("edge", { displayName: "e2e-scheduled" });
        const token = new tunnels.TunnelToken("token", { tunnelId: tunnel.tunnelId, rotateEveryDays: 30 });
        new Sink("consumer", { token: pulumi.secret(token.token) });
        return { nextRotationAt: token.nextRotationAt };
      },
    });
    const { stack } = hermetic;
    const up = await stack.up();
    const next = Date.parse(up.outputs.nextRotationAt?.value as string);
    expect(next - Date.now()).toBeGreaterThan(29 * DAY * 1000);

    hermetic.setProviderClockOffset(29 * DAY);
    await expectEmptyPlan(stack);

    hermetic.setProviderClockOffset(31 * DAY);
    const plan = await previewPlan(stack);
    expect(stepFor(plan, "token")).toMatchObject({ op: "update", changedInputs: ["rotateAt"] });
    expect(stepFor(plan, "consumer").op).toBe("update");

    const rotated = await stack.up();
    expect(Date.parse(rotated.outputs.nextRotationAt?.value as string)).toBeGreaterThan(next);
    const reasons = (await emulator.audit()).filter((e) => e.action === "token.rotate").map((e) => JSON.stringify(e.detail));
    expect(reasons.some((r) => r.includes("scheduled rotation, every 30 days"))).toBe(true);
    await expectEmptyPlan(stack);
    await stack.destroy();
  });
});
