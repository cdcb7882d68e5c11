import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as mcpTunnels from "pulumi-mcp-tunnels/native";
import { TestEmulator } from "../harness/emulator";
import { makeTempDir, REPO_ROOT } from "../harness/engine";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
let pluginDir: string;
beforeAll(async () => {
  emulator = await TestEmulator.start();
  pluginDir = makeTempDir("mcp-tunnels-plugin");
  execFileSync("bash", [path.join(REPO_ROOT, "scripts", "install-native-provider.sh"), pluginDir], { encoding: "utf8" });
});
afterAll(() => emulator?.close());

describe("pulumi-mcp-tunnels/native, the Node.js SDK Pulumi generates from schema.json, on the native plugin", () => {
  it("declares a Tunnel that the native plugin creates on the emulator and archives on destroy", async () => {
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      pluginDirs: [pluginDir],
      program: async () => ({ tunnelId: new mcpTunnels.Tunnel("edge", { displayName: "e2e-generated-sdk" }).tunnelId }),
    });
    const up = await stack.up();
    const tunnelId = up.outputs.tunnelId?.value as string;
    expect((await emulator.tunnels()).map((t) => t.id)).toContain(tunnelId);
    const { deployment } = await stack.exportStack();
    expect((deployment.resources as { type: string }[]).map((r) => r.type)).toEqual(expect.arrayContaining(["pulumi:providers:mcp-tunnels", "mcp-tunnels:index:Tunnel"]));
    await stack.destroy();
    expect((await emulator.tunnels(true)).find((t) => t.id === tunnelId)?.archived_at).not.toBeNull();
  });
});
