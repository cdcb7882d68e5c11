import * as fs from "node:fs";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { describe, expect, it } from "vitest";
import { TestEmulator } from "../harness/emulator";
import { killEngine, reapPlugins, waitFor, type KillMode } from "../soak/engine-process";
import {
  auditCount,
  inventory,
  quickstartStack,
  recordedTokenId,
  recoverInterruptedUpdate,
  restoreUnreadableCheckpoint,
  tokenInForce,
  type Inventory,
  type Quickstart,
} from "../soak/quickstart";

// `make test` kills the engine at fixed, hard moments; `make soak` (MCP_TUNNELS_SOAK=1) adds 20 kills at random moments.
const SOAK = process.env.MCP_TUNNELS_SOAK === "1";
const SOAK_KILLS = 20;

const emulator = TestEmulator.forFile({ resetBeforeEach: true });

type FaultRule = { path_prefix?: string; method?: string; status?: number; rate: number; latency_ms?: number; after_commit?: boolean; count?: number };
const setFaults = (rules: FaultRule[]) => emulator.control("POST", "/_emulator/faults", { rules });
const clearFaults = () => emulator.control("DELETE", "/_emulator/faults");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const served = async (method: string, pathname: string) => (await emulator.requests()).some((r) => r.method === method && r.path === pathname);

/** The provider's create journal for this stack, as the tests read it to tell which recovery path ran. */
function journalRecords(quickstart: Quickstart): { createdId?: string }[] {
  const dir = path.join(quickstart.env.MCP_TUNNELS_CACHE_DIR!, "create-journal");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .map((name) => JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as { createdId?: string });
}

/** After recovery: one tunnel, one registration, the state's token in force, nothing else active. */
async function expectConverged(quickstart: Quickstart): Promise<Inventory> {
  const found = await inventory(emulator, quickstart.stack);
  expect(found).toMatchObject({ orphans: [], missing: [], pendingOperations: 0 });
  expect(found.stateTunnels).toHaveLength(1);
  expect(found.activeCertificates).toEqual(found.stateCertificates);
  expect(found.activeCertificates).toHaveLength(1);
  const current = await tokenInForce(emulator, found.stateTunnels[0]!);
  expect(await recordedTokenId(quickstart.stack)).toBe(current.id);
  expect((await quickstart.stack.outputs()).token?.value).toBe(current.value);
  return found;
}

/** Starts `up`, which is expected to die: its rejection is swallowed, its events kept. */
function doomedUp(quickstart: Quickstart): { done: Promise<unknown>; events: EngineEvent[] } {
  const events: EngineEvent[] = [];
  const done = quickstart.stack.up({ onEvent: (event) => events.push(event) }).then(
    () => "finished",
    (error: unknown) => error,
  );
  return { done, events };
}

const stepStarted = (events: EngineEvent[], op: string, name: string) =>
  events.some((e) => e.resourcePreEvent?.metadata.op === op && e.resourcePreEvent.metadata.urn.endsWith(`::${name}`));

describe("kill -9 of the engine during an up, then refresh (clearing pending creates) and up", () => {
  it("while the tunnel create is in flight: the provider finishes it, and the next up takes over that tunnel instead of leaving it orphaned", async () => {
    const quickstart = await quickstartStack(emulator, "e2e-crash-in-flight");
    await emulator.control("DELETE", "/_emulator/requests");
    // The first write is the tunnel create; the emulator holds it 3 s before applying it.
    await setFaults([{ path_prefix: "/v1/tunnels", method: "POST", latency_ms: 3_000, rate: 1, count: 1 }]);
    const up = doomedUp(quickstart);
    // The provider lists same-named tunnels and journals the attempt just before it sends the create.
    await waitFor(() => served("GET", "/v1/tunnels"), "the listing before the create");
    await sleep(500);
    const killed = killEngine(quickstart.dir, "engine");
    expect(await up.done).not.toBe("finished");
    await waitFor(async () => (await auditCount(emulator, "tunnel.create")) === 1, "the create to be applied");
    await waitFor(() => journalRecords(quickstart).some((r) => r.createdId !== undefined), "the provider to journal the answer");
    await reapPlugins(killed);
    await clearFaults();

    const interrupted = await inventory(emulator, quickstart.stack);
    expect(interrupted.orphans).toHaveLength(1); // the hard case happened: a tunnel no state names
    expect(interrupted.pendingOperations).toBe(1);

    await recoverInterruptedUpdate(quickstart.stack);
    const recovered = await expectConverged(quickstart);
    expect(recovered.stateTunnels).toEqual(interrupted.orphans);
    expect(await auditCount(emulator, "tunnel.create")).toBe(1);
    await quickstart.stack.destroy();
    expect(await emulator.tunnels()).toEqual([]);
  });

  it("after the API created the tunnel but before anyone read the answer (engine and provider killed): the next up finds that tunnel", async () => {
    const quickstart = await quickstartStack(emulator, "e2e-crash-unanswered");
    await setFaults([
      { path_prefix: "/v1/tunnels", method: "GET", latency_ms: 0, rate: 1, count: 1 }, // the listing before the create
      { path_prefix: "/v1/tunnels", method: "POST", status: 503, after_commit: true, rate: 1, count: 1 }, // applied, answer lost
      { path_prefix: "/v1/tunnels", method: "GET", latency_ms: 30_000, rate: 1, count: 1 }, // the client's look-up hangs
    ]);
    const up = doomedUp(quickstart);
    await waitFor(async () => (await auditCount(emulator, "tunnel.create")) === 1, "the create to be applied");
    killEngine(quickstart.dir, "engine-and-plugins");
    expect(await up.done).not.toBe("finished");
    await clearFaults();

    const interrupted = await inventory(emulator, quickstart.stack);
    expect(interrupted.orphans).toHaveLength(1);
    expect(journalRecords(quickstart)).toEqual([expect.not.objectContaining({ createdId: expect.anything() })]);

    await recoverInterruptedUpdate(quickstart.stack);
    const recovered = await expectConverged(quickstart);
    expect(recovered.stateTunnels).toEqual(interrupted.orphans);
    expect(await auditCount(emulator, "tunnel.create")).toBe(1);
    const { deployment } = await quickstart.stack.exportStack();
    const tunnel = (deployment.resources as { urn: string; type: string; inputs?: Record<string, unknown> }[]).find((r) => r.type.endsWith(":Tunnel"));
    expect(tunnel?.inputs?.resourceUrn).toBe(tunnel?.urn); // the journal key is the resource's real URN
    await quickstart.stack.destroy();
  });

  it("during a CA rotation, after the new CA was registered but before the engine recorded it: the next up adopts it, with never a third active certificate", async () => {
    const quickstart = await quickstartStack(emulator, "e2e-crash-rotation");
    const first = await quickstart.stack.up();
    const tunnelId = first.outputs.tunnelId?.value as string;
    const certificates = `/v1/tunnels/${tunnelId}/certificates`;
    quickstart.settings.caRotation = 2;
    await setFaults([
      // The engine checks a replacement twice, and each check counts the free slots.
      { path_prefix: certificates, method: "GET", latency_ms: 0, rate: 1, count: 2 },
      { path_prefix: certificates, method: "POST", status: 503, after_commit: true, rate: 1, count: 1 },
      { path_prefix: certificates, method: "GET", latency_ms: 30_000, rate: 1, count: 1 },
    ]);
    const up = doomedUp(quickstart);
    await waitFor(async () => (await auditCount(emulator, "certificate.create")) === 2, "the new CA's registration to be applied");
    killEngine(quickstart.dir, "engine-and-plugins");
    expect(await up.done).not.toBe("finished");
    await clearFaults();

    const interrupted = await inventory(emulator, quickstart.stack);
    expect(interrupted.activeCertificates).toHaveLength(2);
    expect(interrupted.orphans).toHaveLength(1);

    await recoverInterruptedUpdate(quickstart.stack);
    const recovered = await expectConverged(quickstart);
    expect(recovered.activeCertificates).toEqual(interrupted.orphans);
    expect(await auditCount(emulator, "certificate.create")).toBe(2);
    await quickstart.stack.destroy();
  });

  it("during a token rotation, after the API rotated: refresh reveals nothing unless asked, and the next up leaves the state holding the token in force", async () => {
    const quickstart = await quickstartStack(emulator, "e2e-crash-token");
    const first = await quickstart.stack.up();
    const tunnelId = first.outputs.tunnelId?.value as string;
    quickstart.settings.tokenRotation = "2";
    await setFaults([{ path_prefix: `/v1/tunnels/${tunnelId}/rotate_token`, latency_ms: 3_000, rate: 1, count: 1 }]);
    const up = doomedUp(quickstart);
    await waitFor(() => stepStarted(up.events, "update", "quickstart-token"), "the token update to start");
    await sleep(500);
    const killed = killEngine(quickstart.dir, "engine");
    expect(await up.done).not.toBe("finished");
    await waitFor(async () => (await auditCount(emulator, "token.rotate")) === 1, "the rotation to be applied");
    await reapPlugins(killed);
    await clearFaults();
    const rotated = await tokenInForce(emulator, tunnelId);
    expect(await recordedTokenId(quickstart.stack)).not.toBe(rotated.id); // the state holds a token no longer in force

    await quickstart.stack.cancel();
    const revealsBefore = await auditCount(emulator, "token.reveal");
    await quickstart.stack.refresh({ clearPendingCreates: true });
    expect(await auditCount(emulator, "token.reveal")).toBe(revealsBefore);
    expect(await recordedTokenId(quickstart.stack)).not.toBe(rotated.id);

    // Asked to, refresh detects the interrupted rotation and records the token in force. Stack
    // config reaches a refresh only with --run-program: otherwise providers keep the config the
    // last up recorded.
    await quickstart.stack.setConfig("mcpTunnels:revealOnRefresh", { value: "true" });
    await quickstart.stack.refresh({ runProgram: true });
    await quickstart.stack.removeConfig("mcpTunnels:revealOnRefresh");
    expect(await recordedTokenId(quickstart.stack)).toBe(rotated.id);

    await quickstart.stack.up();
    await expectConverged(quickstart);
    expect(await auditCount(emulator, "token.rotate")).toBe(2); // the interrupted rotation is done again, once
    await quickstart.stack.destroy();
  });

  it.runIf(SOAK)(
    `soak: ${SOAK_KILLS} kills at random moments of an up or a CA and token rotation leave no orphan after refresh and up`,
    async () => {
      const random = seededRandom(Number(process.env.MCP_TUNNELS_SOAK_SEED ?? Date.now() % 100_000));
      const kills: { scenario: string; mode: KillMode; step: string; delayMs: number; checkpointRestored: boolean; pendingAtKill: number; unrecordedAtKill: number; orphans: string[]; recoveryUps: number; error?: string }[] = [];
      let missed = 0;
      for (let attempt = 0; kills.length < SOAK_KILLS && attempt < SOAK_KILLS * 3; attempt++) {
        await emulator.control("POST", "/_emulator/reset");
        const quickstart = await quickstartStack(emulator, `soak-crash-${attempt}`);
        const rotation = random() < 0.5;
        if (rotation) {
          await quickstart.stack.up();
          quickstart.settings.caRotation = 2;
          quickstart.settings.tokenRotation = "2";
        }
        // The steps that call the API; the kill lands a random moment after one of them starts.
        const steps = rotation
          ? [["create-replacement", "quickstart-ca-registration"], ["update", "quickstart-token"], ["delete-replaced", "quickstart-ca-registration"]]
          : [["create", "quickstart-tunnel"], ["create", "quickstart-ca-registration"], ["create", "quickstart-token"]];
        const [op, name] = steps[Math.floor(random() * steps.length)]!;
        const delayMs = Math.floor(random() * 600);
        const mode: KillMode = random() < 0.5 ? "engine" : "engine-and-plugins";
        // Calls held a little, so a kill can land with a request in flight.
        await setFaults([
          { path_prefix: "/v1/tunnels", method: "POST", latency_ms: 300, rate: 1 },
          { path_prefix: "/v1/tunnels", latency_ms: 100, rate: 1 },
        ]);
        const up = doomedUp(quickstart);
        const started = await Promise.race([waitFor(() => stepStarted(up.events, op!, name!), `${op} ${name}`, 60_000).then(() => true), up.done.then(() => false)]);
        let killed = false;
        if (started) {
          await sleep(delayMs);
          try {
            const victim = killEngine(quickstart.dir, mode);
            killed = true;
            if (mode === "engine") {
              await sleep(2_000); // what the provider was doing, it finishes
              await reapPlugins(victim);
            }
          } catch {
            // The up finished before the kill.
          }
        }
        await up.done;
        await clearFaults();
        if (!killed) {
          missed++;
          await quickstart.stack.destroy().catch(() => undefined);
          await quickstart.dispose();
          continue;
        }
        const checkpointRestored = await restoreUnreadableCheckpoint(quickstart);
        const interrupted = await inventory(emulator, quickstart.stack);
        let recoveryUps = 0;
        let error: string | undefined;
        try {
          recoveryUps = 1;
          await recoverInterruptedUpdate(quickstart.stack);
        } catch (failure) {
          error = String(failure).split("\n").filter((line) => /error/i.test(line)).slice(0, 2).join(" | ");
          recoveryUps = 2;
          await quickstart.stack.up().catch(() => undefined);
        }
        const found = await inventory(emulator, quickstart.stack);
        const tokenOk = found.stateTunnels.length === 1 && (await recordedTokenId(quickstart.stack)) === (await tokenInForce(emulator, found.stateTunnels[0]!)).id;
        kills.push({
          scenario: rotation ? "rotation" : "first up",
          mode,
          step: `${op} ${name}`,
          delayMs,
          checkpointRestored,
          pendingAtKill: interrupted.pendingOperations,
          unrecordedAtKill: interrupted.orphans.length,
          orphans: [...found.orphans, ...(found.activeCertificates.length > 1 ? ["a second active certificate"] : []), ...(tokenOk ? [] : ["token out of date"])],
          recoveryUps,
          ...(error ? { error } : {}),
        });
        await quickstart.stack.destroy().catch(() => undefined);
        await quickstart.dispose();
      }
      const orphans = kills.flatMap((k) => k.orphans);
      console.log(
        `crash soak: ${kills.length} kills (${kills.filter((k) => k.scenario === "rotation").length} during a rotation, ` +
          `${kills.filter((k) => k.mode === "engine").length} of the CLI alone), ${missed} ups finished before the kill, ` +
          `${kills.filter((k) => k.pendingAtKill > 0).length} kills left a pending operation, ` +
          `${kills.filter((k) => k.unrecordedAtKill > 0).length} left an object the API holds and the state does not name (recovered by the next up), ` +
          `${kills.filter((k) => k.checkpointRestored).length} left the checkpoint unreadable (restored from its .bak), ` +
          `${orphans.length} orphans, ${kills.filter((k) => k.recoveryUps > 1).length} recoveries needing a second up`,
      );
      for (const kill of kills.filter((k) => k.orphans.length > 0 || k.recoveryUps > 1 || k.checkpointRestored)) console.log(`  ${JSON.stringify(kill)}`);
      expect(kills).toHaveLength(SOAK_KILLS);
      expect(orphans).toEqual([]);
      expect(kills.filter((k) => k.recoveryUps > 1)).toEqual([]);
    },
    SOAK_KILLS * 3 * 60_000,
  );
});

/** mulberry32: a seeded generator, so a failing soak can be replayed with MCP_TUNNELS_SOAK_SEED. */
function seededRandom(seed: number): () => number {
  console.log(`crash soak seed: ${seed} (replay with MCP_TUNNELS_SOAK_SEED=${seed})`);
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
