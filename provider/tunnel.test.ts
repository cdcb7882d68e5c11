import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "../emulator/index";
import { mintAccessToken } from "../test/support/emulator-credentials";
import { TunnelsClient } from "../core/api";
import { generateCertificateAuthority } from "../core/pki";
import type { ApiClients } from "./kit/clients";
import { FakeClock } from "./kit/clock";
import { CreateJournal, RESOURCE_URN_INPUT } from "./kit/create-journal";
import { INTERRUPTED_CREATE_WINDOW_MS, TunnelProvider } from "./tunnel";

const URN = "urn:pulumi:dev::gateway::pulumi-nodejs:dynamic/mcp-tunnels:Tunnel::edge";

let emulator: RunningEmulator;
let client: TunnelsClient;
let dir: string;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(() => emulator?.close());
beforeEach(async () => {
  await fetch(`${emulator.baseUrl}/_emulator/reset`, { method: "POST" });
  client = new TunnelsClient({ env: { ANTHROPIC_BASE_URL: emulator.baseUrl, ANTHROPIC_AUTH_TOKEN: await mintAccessToken(emulator.baseUrl) } });
  dir = mkdtempSync(join(tmpdir(), "tunnel-provider-"));
  return async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  };
});

const clients: ApiClients = { tunnels: () => client, admin: () => { throw new Error("no admin calls"); } };

/** A provider process: its own journal in the shared cache directory, and a clock. */
function providerProcess(clock = new FakeClock(new Date())) {
  const journal = new CreateJournal(() => ({ dir, apiTarget: emulator.baseUrl }));
  return { provider: new TunnelProvider(clients, journal, clock), journal, clock };
}

const inputs = (displayName = "edge") => ({ displayName, [RESOURCE_URN_INPUT]: URN });
const activeTunnels = async () => (await client.tunnels.list().toArray()).filter((t) => !t.archivedAt);

describe("Tunnel create after an interrupted create of the same resource", () => {
  it("takes over the tunnel the API returned, when the engine was killed before recording it", async () => {
    const first = await providerProcess().provider.create(inputs());
    // The engine died: nothing recorded it. A new provider process creates the resource again.
    const again = await providerProcess().provider.create(inputs());
    expect(again.id).toBe(first.id);
    expect((await activeTunnels()).map((t) => t.id)).toEqual([first.id]);
  });

  it("takes over the tunnel a request in flight made, when no answer was ever read", async () => {
    const { journal, clock } = providerProcess();
    const before = await client.tunnels.create({ displayName: "edge" });
    await journal.write({ resourceUrn: URN, displayName: "edge", startedAt: clock.now().toISOString(), preexistingIds: [before.id] });
    const landed = await client.tunnels.create({ displayName: "edge" }); // the request the killed process sent
    const again = await providerProcess().provider.create(inputs());
    expect(again.id).toBe(landed.id);
    expect((await activeTunnels()).map((t) => t.id).sort()).toEqual([before.id, landed.id].sort());
  });

  it("creates a new tunnel when the interrupted request never landed, leaving same-named tunnels that existed before alone", async () => {
    const { journal, clock } = providerProcess();
    const other = await client.tunnels.create({ displayName: "edge" });
    await journal.write({ resourceUrn: URN, displayName: "edge", startedAt: clock.now().toISOString(), preexistingIds: [other.id] });
    const created = await providerProcess().provider.create(inputs());
    expect(created.id).not.toBe(other.id);
  });

  it("never takes over a tunnel that has had a certificate: something that recorded it uses it", async () => {
    const { journal, clock } = providerProcess();
    await journal.write({ resourceUrn: URN, displayName: "edge", startedAt: clock.now().toISOString(), preexistingIds: [] });
    const used = await client.tunnels.create({ displayName: "edge" });
    const ca = await generateCertificateAuthority({ commonName: "used", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
    const registration = await client.certificates.create(used.id, { caCertificatePem: ca.certificatePem });
    await client.certificates.archive(used.id, registration.id);
    const created = await providerProcess().provider.create(inputs());
    expect(created.id).not.toBe(used.id);
  });

  it("never takes over a same-named tunnel made after the interrupted create's window", async () => {
    const { journal, clock } = providerProcess();
    clock.set(new Date(Date.now() - INTERRUPTED_CREATE_WINDOW_MS - 60_000));
    await journal.write({ resourceUrn: URN, displayName: "edge", startedAt: clock.now().toISOString(), preexistingIds: [] });
    const later = await client.tunnels.create({ displayName: "edge" });
    const created = await providerProcess().provider.create(inputs());
    expect(created.id).not.toBe(later.id);
  });

  it("refuses to guess between two tunnels that could each be the interrupted create's", async () => {
    const { journal, clock } = providerProcess();
    await journal.write({ resourceUrn: URN, displayName: "edge", startedAt: clock.now().toISOString(), preexistingIds: [] });
    const a = await client.tunnels.create({ displayName: "edge" });
    const b = await client.tunnels.create({ displayName: "edge" });
    const failure = providerProcess().provider.create(inputs());
    await expect(failure).rejects.toMatchObject({ code: "CREATE_RECOVERY_AMBIGUOUS", operation: "create", hint: expect.stringContaining("adoptTunnelId") });
    // The wording is the point here: the user has to pick one of the candidates it names.
    await expect(failure).rejects.toThrow(new RegExp(`(${a.id}, ${b.id}|${b.id}, ${a.id})`));
    expect(await activeTunnels()).toHaveLength(2);
  });

  it("does not recover an attempt for another display name", async () => {
    const first = await providerProcess().provider.create(inputs("edge"));
    const renamed = await providerProcess().provider.create(inputs("edge-2"));
    expect(renamed.id).not.toBe(first.id);
  });

  it("forgets an attempt once diff shows the state recorded its tunnel, so a replacement never takes over the tunnel it replaces", async () => {
    const { provider } = providerProcess();
    const first = await provider.create(inputs());
    await provider.diff(first.id, first.outs, inputs());
    const replacement = await providerProcess().provider.create(inputs());
    expect(replacement.id).not.toBe(first.id);
  });

  it("keeps an attempt for a new name when diff shows the recorded tunnel of the old name", async () => {
    const { provider, journal, clock } = providerProcess();
    const recorded = await provider.create(inputs("edge"));
    await journal.write({ resourceUrn: URN, displayName: "edge-2", startedAt: clock.now().toISOString(), preexistingIds: [] });
    const landed = await client.tunnels.create({ displayName: "edge-2" });
    await provider.diff(recorded.id, recorded.outs, inputs("edge-2"));
    expect((await providerProcess().provider.create(inputs("edge-2"))).id).toBe(landed.id);
  });

  it("creates as before when the resource has no URN input or the journal cannot be written", async () => {
    const plain = await providerProcess().provider.create({ displayName: "edge" });
    writeFileSync(join(dir, "a-file"), "");
    const unwritable = new TunnelProvider(clients, new CreateJournal(() => ({ dir: join(dir, "a-file"), apiTarget: "t" })));
    const journaled = await unwritable.create(inputs());
    expect(journaled.id).not.toBe(plain.id);
    expect(await activeTunnels()).toHaveLength(2);
  });

  it("check keeps the URN input out of validation and in the inputs", async () => {
    const { provider } = providerProcess();
    expect(await provider.check({}, inputs())).toEqual({ inputs: inputs(), failures: [] });
  });
});

describe("Tunnel create refuses an adoptTunnelId it cannot take over", () => {
  const adopting = (adoptTunnelId: string, displayName = "edge") => providerProcess().provider.create({ displayName, adoptTunnelId });

  it("refuses a tunnel with another name, naming the fix", async () => {
    const existing = await client.tunnels.create({ displayName: "edge-other" });
    await expect(adopting(existing.id)).rejects.toMatchObject({ code: "ADOPT_NAME_MISMATCH", hint: expect.stringContaining("set displayName") });
  });

  it("refuses an archived tunnel", async () => {
    const existing = await client.tunnels.create({ displayName: "edge" });
    await client.tunnels.archive(existing.id);
    await expect(adopting(existing.id)).rejects.toMatchObject({ code: "ADOPT_ARCHIVED" });
  });

  it("refuses a tunnel that does not exist, with the API's status and request id", async () => {
    const failure = adopting("tnl_1111111111111111111111AA");
    await expect(failure).rejects.toMatchObject({ code: "ADOPT_NOT_FOUND", apiCode: "TUNNELS_NOT_FOUND", status: 404, requestId: expect.stringMatching(/\S/) });
    expect(await activeTunnels()).toHaveLength(0);
  });

  it("adopts a tunnel of the same name", async () => {
    const existing = await client.tunnels.create({ displayName: "edge" });
    expect((await adopting(existing.id)).id).toBe(existing.id);
  });
});

describe("Tunnel update", () => {
  it("is never planned, and says so if the engine asks", async () => {
    await expect(providerProcess().provider.update("tnl_1111111111111111111111AA")).rejects.toMatchObject({ code: "UPDATE_NOT_SUPPORTED", operation: "update" });
  });
});
