import { describe, expect, it } from "vitest";
import type { ApiClients } from "./kit/clients";
import { FakeClock } from "./kit/clock";
import { ProviderRuntime } from "./kit/runtime";
import { TunnelTokenProvider } from "./tunnel-token";

const TUNNEL = "tnl_1111111111111111111111AA";

/** Records rotate calls; each returns a new token id, like the API. */
function fakeClients() {
  const rotations: { reason?: string | undefined }[] = [];
  const reveals: string[] = [];
  const clients = {
    tunnels: () => ({
      tunnels: {
        retrieve: async (id: string) => ({ id, archivedAt: null }),
        revealToken: async (id: string) => (reveals.push(id), { id: `ttkn_${"0".repeat(64)}`, tunnelToken: "revealed" }),
        rotateToken: async (_id: string, options: { reason?: string }) => {
          rotations.push(options);
          return { id: `ttkn_${String(rotations.length).padStart(64, "0")}`, tunnelToken: `rotated-${rotations.length}` };
        },
      },
    }),
  } as unknown as ApiClients;
  return { clients, rotations, reveals };
}

async function checked(provider: TunnelTokenProvider, olds: Record<string, unknown>, news: Record<string, unknown>) {
  const result = await provider.check(olds, news);
  expect(result.failures).toEqual([]);
  return result.inputs as Record<string, unknown>;
}

describe("TunnelToken rotation is decided at preview from the clock", () => {
  it("keeps rotateAt while it lies ahead, and moves it once due so the preview shows a change", async () => {
    const clock = new FakeClock("2026-11-25T12:00:00Z");
    const { clients, rotations } = fakeClients();
    const provider = new TunnelTokenProvider(clients, clock, new ProviderRuntime());
    const first = await checked(provider, {}, { tunnelId: TUNNEL, rotateEveryDays: 30 });
    expect(first.rotateAt).toBe("2026-12-25T12:00:00.000Z");
    const created = await provider.create(first);

    clock.advanceDays(29);
    const early = await checked(provider, first, { tunnelId: TUNNEL, rotateEveryDays: 30 });
    expect(early.rotateAt).toBe(first.rotateAt);
    expect((await provider.diff("id", created.outs, early)).changes).toBe(false);

    clock.advanceDays(2);
    const due = await checked(provider, first, { tunnelId: TUNNEL, rotateEveryDays: 30 });
    expect(due.rotateAt).toBe("2027-01-25T12:00:00.000Z");
    const diff = await provider.diff("id", created.outs, due);
    expect(diff).toMatchObject({ changes: true, replaces: [] });

    const updated = await provider.update("id", created.outs, due);
    expect(rotations).toEqual([{ reason: "scheduled rotation, every 30 days" }]);
    expect(updated.outs).toMatchObject({ token: "rotated-1", nextRotationAt: "2027-01-25T12:00:00.000Z" });
  });

  it("rotates once, with the given reason, when rotation changes", async () => {
    const clock = new FakeClock();
    const { clients, rotations } = fakeClients();
    const provider = new TunnelTokenProvider(clients, clock, new ProviderRuntime());
    const first = await checked(provider, {}, { tunnelId: TUNNEL, rotation: "1" });
    const created = await provider.create(first);
    const next = await checked(provider, first, { tunnelId: TUNNEL, rotation: "2", reason: "quarterly" });
    const updated = await provider.update("id", created.outs, next);
    expect(rotations).toEqual([{ reason: "quarterly" }]);
    expect(updated.outs).toMatchObject({ token: "rotated-1", rotation: "2" });
  });

  it("does not rotate when only the period grows", async () => {
    const clock = new FakeClock();
    const { clients, rotations } = fakeClients();
    const provider = new TunnelTokenProvider(clients, clock, new ProviderRuntime());
    const first = await checked(provider, {}, { tunnelId: TUNNEL, rotateEveryDays: 30 });
    const created = await provider.create(first);
    clock.advanceDays(10);
    const longer = await checked(provider, first, { tunnelId: TUNNEL, rotateEveryDays: 60 });
    expect(longer.rotateAt).toBe("2027-01-24T12:00:00.000Z");
    await provider.update("id", created.outs, longer);
    expect(rotations).toEqual([]);
  });

  it("rotates when a shorter period makes the rotation overdue", async () => {
    const clock = new FakeClock();
    const { clients, rotations } = fakeClients();
    const provider = new TunnelTokenProvider(clients, clock, new ProviderRuntime());
    const first = await checked(provider, {}, { tunnelId: TUNNEL, rotateEveryDays: 30 });
    const created = await provider.create(first);
    clock.advanceDays(15);
    const shorter = await checked(provider, first, { tunnelId: TUNNEL, rotateEveryDays: 10 });
    expect(shorter.rotateAt).toBe("2026-12-20T12:00:00.000Z");
    await provider.update("id", created.outs, shorter);
    expect(rotations).toHaveLength(1);
  });
});

describe("TunnelToken read", () => {
  it("reveals the token of an import (a state with no token, the engine's read by id), which is audited, and not on a refresh", async () => {
    const { clients, reveals } = fakeClients();
    const provider = new TunnelTokenProvider(clients, new FakeClock(new Date("2026-01-01T00:00:00Z")), new ProviderRuntime());
    const imported = await provider.read(`${TUNNEL}/token`, { tunnelId: TUNNEL });
    expect(imported.props).toMatchObject({ tunnelId: TUNNEL, token: "revealed", tokenId: `ttkn_${"0".repeat(64)}` });
    expect(imported.inputs).toEqual({ tunnelId: TUNNEL });
    await provider.read(`${TUNNEL}/token`, imported.props!);
    expect(reveals).toEqual([TUNNEL]);
  });
});
