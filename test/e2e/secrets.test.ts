import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tunnels from "pulumi-mcp-tunnels";
import { TestEmulator } from "../harness/emulator";
import { previewJson } from "../harness/plan";
import { Sink } from "../harness/sink";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator?.close());

/** Every way a secret could be quoted: whole, and each line of a PEM body. */
function needles(secrets: Record<string, string>): [string, string][] {
  return Object.entries(secrets).flatMap(([name, value]) => [
    [name, value] as [string, string],
    ...value
      .split("\n")
      .filter((line) => line.length >= 32 && !line.startsWith("-----"))
      .map((line, index) => [`${name} line ${index}`, line] as [string, string]),
  ]);
}

describe("no secret in output, state, errors or logs", () => {
  it("keeps the token, private keys, the bearer and the identity token out of everything the engine prints or stores", async () => {
    const settings = { tokenRotation: "1" };
    const env: Record<string, string> = { ...(await emulator.engineEnv()), ANTHROPIC_LOG: "debug" };
    const hermetic = await createHermeticStack({
      env,
      program: async () => {
        const deployment = new tunnels.TunnelDeployment("secrets", { displayName: "e2e-secrets", routes: { mcp: "http://10.0.0.5:8080" }, token: { rotation: settings.tokenRotation } });
        new Sink("env-file", { env: deployment.composeEnv, files: deployment.composeProject });
        return {
          tunnelId: deployment.tunnelId,
          token: deployment.tunnelToken!.token,
          caKey: deployment.certificateAuthority!.privateKeyPem,
          serverKey: deployment.serverCertificate!.privateKeyPem,
          caCertificate: deployment.certificateAuthority!.certificatePem,
          serverCertificate: deployment.serverCertificate!.certificatePem,
        };
      },
    });
    const { stack } = hermetic;
    const printed: string[] = [];
    const onOutput = (text: string) => printed.push(text);

    const up = await stack.up({ onOutput });
    printed.push((await stack.preview({ diff: true, onOutput })).stdout);
    printed.push(await previewJson(stack));
    printed.push((await stack.refresh({ onOutput })).stdout);

    settings.tokenRotation = "2";
    printed.push((await stack.preview({ diff: true, onOutput })).stdout);
    printed.push(await previewJson(stack));
    // An error path with the secrets in play: the rotation is refused by the API.
    await emulator.control("POST", "/_emulator/faults", { rules: [{ path_prefix: `/v1/tunnels/${up.outputs.tunnelId?.value}/rotate_token`, status: 403, rate: 1 }] });
    const failure = await stack.up({ onOutput }).then(() => "", (error: unknown) => String(error));
    await emulator.control("DELETE", "/_emulator/faults");
    expect(failure).toMatch(/TunnelToken for tnl_\w+ update failed: tunnels\.rotateToken: .*status 403.*Is service account/);
    printed.push(failure);
    const rotated = await stack.up({ onOutput });
    printed.push((await stack.destroy({ onOutput })).stdout);

    const cacheDir = path.join(hermetic.env.MCP_TUNNELS_CACHE_DIR!, "credentials");
    const cached = fs.readdirSync(cacheDir).filter((name) => name.endsWith(".json"));
    expect(cached.length).toBeGreaterThan(0);
    const bearers = cached.map((name) => {
      expect(fs.statSync(path.join(cacheDir, name)).mode & 0o077).toBe(0);
      return JSON.parse(fs.readFileSync(path.join(cacheDir, name), "utf8")).access_token as string;
    });

    const secrets: Record<string, string> = {
      token: up.outputs.token?.value as string,
      rotatedToken: rotated.outputs.token?.value as string,
      caKey: up.outputs.caKey?.value as string,
      serverKey: up.outputs.serverKey?.value as string,
      identityToken: env.ANTHROPIC_IDENTITY_TOKEN!,
      adminBearer: env.ANTHROPIC_ADMIN_AUTH_TOKEN!,
      ...Object.fromEntries(bearers.map((bearer, index) => [`bearer${index}`, bearer])),
    };
    expect(secrets.rotatedToken).not.toBe(secrets.token);
    const everything = [...printed, hermetic.stateAtRest()].join("\n");
    expect(everything).toContain("secrets-token");
    // The tail of an EC private key's PEM is its public key, which the certificate rightly shows.
    const publicMaterial = [up.outputs.caCertificate?.value, up.outputs.serverCertificate?.value].join("\n");
    const leaks = needles(secrets)
      .filter(([, needle]) => !publicMaterial.includes(needle) && everything.includes(needle))
      .map(([name]) => name);
    expect(leaks).toEqual([]);
  });
});
