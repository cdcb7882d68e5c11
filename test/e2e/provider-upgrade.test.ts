import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tunnels from "pulumi-mcp-tunnels";
import { TestEmulator } from "../harness/emulator";
import { expectEmptyPlan } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";
import { SERIALIZED_PROVIDER_KEY } from "../../core/schemas/engine-values";

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator?.close());

type StateResource = { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };

describe("state written by this package", () => {
  it("keeps the serialized provider small, plans nothing when only its code changes, and holds no plaintext secret", async () => {
    const { stack, stateAtRest } = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        const tunnel = new tunnels.Tunnel("edge", { displayName: "e2e-upgrade" });
        const ca = new tunnels.CertificateAuthority("ca");
        const registration = new tunnels.TunnelCertificate("ca-registration", { tunnelId: tunnel.tunnelId, caCertificatePem: ca.certificatePem });
        const server = new tunnels.ServerCertificate("server", { caCertificatePem: ca.certificatePem, caPrivateKeyPem: ca.privateKeyPem, domain: tunnel.domain }, { dependsOn: [registration] });
        const token = new tunnels.TunnelToken("token", { tunnelId: tunnel.tunnelId, rotateEveryDays: 30 });
        return { token: token.token, caKey: ca.privateKeyPem, serverKey: server.privateKeyPem };
      },
    });
    const up = await stack.up();

    const exported = await stack.exportStack();
    const ours = (exported.deployment.resources as StateResource[]).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/mcp-tunnels:"));
    expect(ours).toHaveLength(5);
    for (const resource of ours) {
      const code = resource.outputs?.[SERIALIZED_PROVIDER_KEY];
      expect(typeof code).toBe("string");
      expect(Buffer.byteLength(code as string), `serialized provider of ${resource.type}`).toBeLessThan(4096);
    }

    const plaintext = stateAtRest();
    expect(plaintext).toContain("mcp-tunnels:TunnelToken");
    for (const name of ["token", "caKey", "serverKey"]) {
      const secret = up.outputs[name]?.value as string;
      expect(secret.length).toBeGreaterThan(20);
      expect(plaintext).not.toContain(secret);
    }
    expect(plaintext).not.toContain("PRIVATE KEY");

    // What an upgrade of this package does to state: different serialized code, same inputs.
    for (const resource of ours) {
      for (const props of [resource.inputs, resource.outputs]) {
        if (props && typeof props[SERIALIZED_PROVIDER_KEY] === "string") props[SERIALIZED_PROVIDER_KEY] = `${props[SERIALIZED_PROVIDER_KEY]}\n// provider code from a newer release\n`;
      }
    }
    await stack.importStack(exported);
    await expectEmptyPlan(stack);
    await stack.destroy();
  });
});
