import { execFileSync } from "node:child_process";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestEmulator } from "../harness/emulator";
import { makeTempDir, REPO_ROOT } from "../harness/engine";
import { expectEmptyPlan } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
let pluginDir: string;
beforeAll(async () => {
  emulator = await TestEmulator.start();
  pluginDir = makeTempDir("mcp-tunnels-plugin");
  execFileSync("bash", [path.join(REPO_ROOT, "scripts", "install-native-provider.sh"), pluginDir], { encoding: "utf8" });
});
afterAll(() => emulator?.close());

class NativeResource extends pulumi.CustomResource {}

function nativeResource(type: string, name: string, inputs: Record<string, unknown>, outputs: string[], importId?: string): Record<string, pulumi.Output<unknown>> {
  const props = { ...inputs, ...Object.fromEntries(outputs.filter((key) => !(key in inputs)).map((key) => [key, undefined])) };
  return new NativeResource(`mcp-tunnels:index:${type}`, name, props, importId ? { import: importId } : {}) as unknown as Record<string, pulumi.Output<unknown>>;
}

/**
 * The engine's import, as the `import` resource option drives it: Read with the id and no state,
 * then Check and Diff of the program's inputs against the inputs Read returned (a mismatch fails
 * the import). `pulumi import` (the CLI, or the Automation API's stack.import) takes the same
 * ImportStep but also loads the project's language plugin, which this toolchain does not ship.
 */
describe("import by id through the native provider plugin", () => {
  it("imports a tunnel made out of band by tnl_… and its token by tnl_…/token (revealed once, audited); the next up plans no change and destroy archives", async () => {
    const made = await emulator.api<{ id: string }>("POST", "/v1/tunnels", { display_name: "e2e-imported" });
    const tunnelId = made.id;
    const settings = { importing: true };
    const { stack, stateAtRest } = await createHermeticStack({
      env: await emulator.engineEnv(),
      pluginDirs: [pluginDir],
      program: async () => {
        const tunnel = nativeResource("Tunnel", "edge", { displayName: "e2e-imported" }, ["tunnelId", "domain"], settings.importing ? tunnelId : undefined);
        const token = nativeResource("TunnelToken", "token", { tunnelId }, ["token", "tokenId"], settings.importing ? `${tunnelId}/token` : undefined);
        return { tunnelId: tunnel.tunnelId, token: token.token };
      },
    });

    const imported = await stack.up();
    console.log(`--- import transcript ---\n${imported.stdout}\n--- end ---`);
    expect(imported.summary.resourceChanges).toMatchObject({ import: 2 });
    expect(imported.outputs.tunnelId?.value).toBe(tunnelId);
    expect(imported.outputs.token?.secret).toBe(true);
    expect(imported.outputs.token?.value).toEqual(expect.any(String));
    expect(stateAtRest()).not.toContain(imported.outputs.token?.value as string);
    const reveals = (await emulator.audit()).filter((e) => e.action === "token.reveal" && e.tunnel_id === tunnelId);
    expect(reveals).toHaveLength(1);
    const state = (await stack.exportStack()).deployment as { resources: { type: string; id?: string }[] };
    expect(state.resources.find((r) => r.type === "mcp-tunnels:index:TunnelToken")?.id).toBe(`${tunnelId}/token`);

    settings.importing = false;
    await expectEmptyPlan(stack);
    const again = await stack.up();
    expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
    expect(again.outputs.token?.value).toBe(imported.outputs.token?.value);

    await stack.destroy();
    const archived = (await emulator.tunnels(true)).find((t) => t.id === tunnelId);
    expect(archived?.archived_at).not.toBeNull();
  });

  it("refuses a TunnelToken import id that does not name its tunnel, saying the form", async () => {
    const made = await emulator.api<{ id: string }>("POST", "/v1/tunnels", { display_name: "e2e-imported-bad-id" });
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      pluginDirs: [pluginDir],
      program: async () => ({ token: nativeResource("TunnelToken", "token", { tunnelId: made.id }, ["token"], "tok_1").token }),
    });
    await expect(stack.up()).rejects.toThrow(/<tunnelId>\/token/);
  });
});
