import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import * as tunnels from "pulumi-mcp-tunnels";
import { generateCertificateAuthority } from "../../core/pki";
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

/** Tunnel, CA, registration and server certificate wired as TunnelDeployment wires them. */
function manualModeProgram(settings: { caRotation: number; displayName: string }) {
  return async () => {
    const tunnel = new tunnels.Tunnel("edge", { displayName: settings.displayName });
    const ca = new tunnels.CertificateAuthority("ca", { rotation: settings.caRotation, validityDays: 365, renewBeforeDays: 30 });
    const registration = new tunnels.TunnelCertificate("ca-registration", { tunnelId: tunnel.tunnelId, caCertificatePem: ca.certificatePem });
    const server = new tunnels.ServerCertificate(
      "server",
      { caCertificatePem: ca.certificatePem, caPrivateKeyPem: ca.privateKeyPem, domain: tunnel.domain },
      { dependsOn: [registration] },
    );
    new Sink("proxy-files", { tlsCrt: server.certificatePem, tlsKey: server.privateKeyPem });
    return { tunnelId: tunnel.tunnelId, caFingerprint: ca.fingerprint, certificateId: registration.certificateId, serverRenewAt: server.renewAt };
  };
}

/** The order in which the engine finished steps, as `op name`. */
function completedSteps(events: EngineEvent[]): string[] {
  return events
    .map((event) => event.resOutputsEvent?.metadata)
    .filter((metadata) => metadata !== undefined && metadata.op !== "same")
    .map((metadata) => `${metadata!.op} ${metadata!.urn.split("::").pop()}`);
}

describe("CA rotation on the real engine", () => {
  it("overlaps two registrations in one up: new CA, registered, server certificate re-issued, dependents updated, old archived, old CA deleted", async () => {
    const settings = { caRotation: 1, displayName: "e2e-ca-rotation" };
    const { stack } = await createHermeticStack({ env: await emulator.engineEnv(), program: manualModeProgram(settings) });
    const up = await stack.up();
    const tunnelId = up.outputs.tunnelId?.value as string;
    const oldCertificateId = up.outputs.certificateId?.value as string;
    expect(await emulator.activeCertificates(tunnelId)).toEqual([expect.objectContaining({ id: oldCertificateId, fingerprint: up.outputs.caFingerprint?.value })]);
    await expectEmptyPlan(stack);
    await stack.refresh();
    await expectEmptyPlan(stack);

    settings.caRotation = 2;
    await emulator.control("DELETE", "/_emulator/requests");
    const plan = await previewPlan(stack);
    expect(stepFor(plan, "ca")).toMatchObject({ op: "replace", replaceReasons: expect.arrayContaining(["rotation"]) });
    expect(stepFor(plan, "ca-registration")).toMatchObject({ op: "replace", replaceReasons: ["caCertificatePem"] });
    expect(stepFor(plan, "server")).toMatchObject({ op: "replace", replaceReasons: expect.arrayContaining(["caCertificatePem"]) });
    expect(stepFor(plan, "proxy-files").op).toBe("update");
    expect(await emulator.mutatingRequests()).toEqual([]);

    const events: EngineEvent[] = [];
    const rotated = await stack.up({ onEvent: (event) => events.push(event) });
    const order = completedSteps(events);
    const at = (step: string) => {
      const index = order.indexOf(step);
      expect(index, `${step} in ${order.join(" → ")}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    expect(at("create-replacement ca")).toBeLessThan(at("create-replacement ca-registration"));
    expect(at("create-replacement ca-registration")).toBeLessThan(at("create-replacement server"));
    expect(at("create-replacement server")).toBeLessThan(at("update proxy-files"));
    expect(at("update proxy-files")).toBeLessThan(at("delete-replaced ca-registration"));
    expect(at("delete-replaced ca-registration")).toBeLessThan(at("delete-replaced ca"));

    const certificateEvents = (await emulator.audit()).filter((e) => e.tunnel_id === tunnelId && e.action.startsWith("certificate."));
    expect(certificateEvents.map((e) => e.action)).toEqual(["certificate.create", "certificate.create", "certificate.archive"]);
    const newCertificateId = rotated.outputs.certificateId?.value as string;
    expect(await emulator.activeCertificates(tunnelId)).toEqual([expect.objectContaining({ id: newCertificateId, fingerprint: rotated.outputs.caFingerprint?.value })]);
    await expectEmptyPlan(stack);
    await stack.destroy();
    expect(await emulator.activeCertificates(tunnelId)).toEqual([]);
  });

  it("fails at preview, naming both certificates, when a rotation would make a third active one", async () => {
    const settings = { caRotation: 1, displayName: "e2e-third-certificate" };
    const { stack } = await createHermeticStack({ env: await emulator.engineEnv(), program: manualModeProgram(settings) });
    const up = await stack.up();
    const tunnelId = up.outputs.tunnelId?.value as string;
    const foreign = await generateCertificateAuthority({ commonName: "someone else's CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
    const registered = await emulator.api<{ id: string }>("POST", `/v1/tunnels/${tunnelId}/certificates`, { ca_certificate_pem: foreign.certificatePem });

    settings.caRotation = 2;
    await emulator.control("DELETE", "/_emulator/requests");
    const failure = previewPlan(stack);
    await expect(failure).rejects.toThrow(/already has 2 active CA certificates/);
    await expect(failure).rejects.toThrow(new RegExp(`${registered.id} \\(not managed by this resource\\)`));
    await expect(failure).rejects.toThrow(new RegExp(`Archive ${registered.id} first`));
    expect(await emulator.mutatingRequests()).toEqual([]);
    expect(await emulator.activeCertificates(tunnelId)).toHaveLength(2);

    await emulator.api("POST", `/v1/tunnels/${tunnelId}/certificates/${registered.id}/archive`);
    await stack.up();
    expect(await emulator.activeCertificates(tunnelId)).toHaveLength(1);
    await stack.destroy();
  });

  it("plans server certificate renewal once its renewAt has passed on the provider's clock", async () => {
    const settings = { caRotation: 1, displayName: "e2e-renewal" };
    const hermetic = await createHermeticStack({ env: await emulator.engineEnv(), program: manualModeProgram(settings) });
    const { stack } = hermetic;
    const up = await stack.up();
    hermetic.setProviderClockOffset(59 * DAY);
    await expectEmptyPlan(stack);

    hermetic.setProviderClockOffset(61 * DAY);
    const plan = await previewPlan(stack);
    expect(stepFor(plan, "server")).toMatchObject({ op: "replace", replaceReasons: ["renewAt"] });
    expect(stepFor(plan, "ca").op).toBe("same");
    expect(stepFor(plan, "proxy-files").op).toBe("update");
    const renewed = await stack.up();
    expect(Date.parse(renewed.outputs.serverRenewAt?.value as string)).toBeGreaterThan(Date.parse(up.outputs.serverRenewAt?.value as string));
    hermetic.setProviderClockOffset(0);
    await stack.destroy();
  });

  it("drops a registration archived out of band on refresh, so the next up registers the CA again", async () => {
    const { stack } = await createHermeticStack({ env: await emulator.engineEnv(), program: manualModeProgram({ caRotation: 1, displayName: "e2e-revoked" }) });
    const up = await stack.up();
    const tunnelId = up.outputs.tunnelId?.value as string;
    await emulator.api("POST", `/v1/tunnels/${tunnelId}/certificates/${up.outputs.certificateId?.value}/archive`);
    await stack.refresh();
    expect(stepFor(await previewPlan(stack), "ca-registration").op).toBe("create");
    await stack.up();
    expect(await emulator.activeCertificates(tunnelId)).toHaveLength(1);
    await stack.destroy();
  });
});
