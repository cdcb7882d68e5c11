import { execFileSync } from "node:child_process";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestEmulator } from "../harness/emulator";
import { makeTempDir, REPO_ROOT } from "../harness/engine";
import { expectEmptyPlan, previewJson, previewPlan, stepFor } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
let pluginDir: string;
beforeAll(async () => {
  emulator = await TestEmulator.start();
  // What `make native-provider` does, into a directory of this test's own (needs `make build`).
  pluginDir = makeTempDir("mcp-tunnels-plugin");
  execFileSync("bash", [path.join(REPO_ROOT, "scripts", "install-native-provider.sh"), pluginDir], { encoding: "utf8" });
});
afterAll(() => emulator?.close());

class NativeResource extends pulumi.CustomResource {}

/** A resource of the native provider as any language declares it: the type token and its properties. */
function nativeResource(type: string, name: string, inputs: Record<string, unknown>, outputs: string[]): Record<string, pulumi.Output<unknown>> {
  const props = { ...inputs, ...Object.fromEntries(outputs.filter((key) => !(key in inputs)).map((key) => [key, undefined])) };
  return new NativeResource(`mcp-tunnels:index:${type}`, name, props) as unknown as Record<string, pulumi.Output<unknown>>;
}

interface PreviewStep {
  op: string;
  urn: string;
  diffReasons?: string[];
  detailedDiff?: Record<string, { kind: string; inputDiff: boolean }>;
}

describe("the native provider plugin on the real engine", () => {
  it("previews a token rotation as a property-level diff naming rotation, rotates on up, and archives the tunnel on destroy", async () => {
    const settings = { rotation: "1", reason: undefined as string | undefined };
    const { stack, stateAtRest } = await createHermeticStack({
      env: await emulator.engineEnv(),
      pluginDirs: [pluginDir],
      program: async () => {
        const tunnel = nativeResource("Tunnel", "edge", { displayName: "e2e-native" }, ["tunnelId", "domain"]);
        const token = nativeResource("TunnelToken", "token", { tunnelId: tunnel.tunnelId, rotation: settings.rotation, ...(settings.reason ? { reason: settings.reason } : {}) }, ["token", "tokenId"]);
        return { tunnelId: tunnel.tunnelId, token: token.token, tokenId: token.tokenId };
      },
    });

    const up = await stack.up();
    const tunnelId = up.outputs.tunnelId?.value as string;
    expect(tunnelId).toMatch(/^tnl_/);
    expect(up.outputs.token?.secret).toBe(true);
    const firstToken = up.outputs.token?.value as string;
    expect(stateAtRest()).toContain(tunnelId);
    expect(stateAtRest()).not.toContain(firstToken);
    await expectEmptyPlan(stack);

    settings.rotation = "2";
    settings.reason = "quarterly rotation";
    await emulator.control("DELETE", "/_emulator/requests");
    const plan = await previewPlan(stack, { diff: true });
    const step = stepFor(plan, "token");
    expect(step).toMatchObject({ op: "update", replaceReasons: [] });
    expect([...step.diffs].sort()).toEqual(["reason", "rotation"]);
    expect(plan.stdout).toMatch(/~ rotation\s*:\s*"1" => "2"/);
    expect(plan.stdout).toMatch(/\+ reason\s*:\s*"quarterly rotation"/);
    const printed = JSON.parse(await previewJson(stack)) as { steps: PreviewStep[] };
    const tokenStep = printed.steps.find((step) => step.urn.endsWith("::token"));
    expect(tokenStep?.op).toBe("update");
    expect(tokenStep?.detailedDiff).toEqual({ rotation: { kind: "update", inputDiff: true }, reason: { kind: "add", inputDiff: true } });
    expect(await emulator.mutatingRequests()).toEqual([]);

    const rotated = await stack.up();
    expect(rotated.outputs.token?.value).not.toBe(firstToken);
    expect(rotated.outputs.token?.secret).toBe(true);
    expect(stateAtRest()).not.toContain(rotated.outputs.token?.value as string);
    const rotations = (await emulator.audit()).filter((e) => e.action === "token.rotate" && e.tunnel_id === tunnelId);
    expect(rotations).toHaveLength(1);
    expect(JSON.stringify(rotations[0]?.detail)).toContain("quarterly rotation");
    await expectEmptyPlan(stack);

    await stack.destroy();
    const archived = (await emulator.tunnels(true)).find((t) => t.id === tunnelId);
    expect(archived?.archived_at).not.toBeNull();
    expect((await emulator.audit()).some((e) => e.action === "tunnel.archive" && e.tunnel_id === tunnelId)).toBe(true);
  });

  it("previews a displayName change on the Tunnel as a replacing property diff", async () => {
    const settings = { displayName: "e2e-native-a" };
    const { stack } = await createHermeticStack({
      env: await emulator.engineEnv(),
      pluginDirs: [pluginDir],
      program: async () => {
        const tunnel = nativeResource("Tunnel", "edge", { displayName: settings.displayName }, ["tunnelId"]);
        return { tunnelId: tunnel.tunnelId };
      },
    });
    await stack.up();
    settings.displayName = "e2e-native-b";
    const printed = JSON.parse(await previewJson(stack)) as { steps: PreviewStep[] };
    const replace = printed.steps.find((step) => step.urn.endsWith("::edge") && step.op === "replace");
    expect(replace?.detailedDiff).toEqual({ displayName: { kind: "update-replace", inputDiff: true } });
    await stack.destroy();
  });

  it("takes provider config in the package's namespace (mcp-tunnels:baseUrl) as the dynamic path takes mcpTunnels:baseUrl", async () => {
    const { ANTHROPIC_BASE_URL: baseUrl, ...withoutBaseUrl } = await emulator.engineEnv();
    const { stack } = await createHermeticStack({
      env: withoutBaseUrl,
      pluginDirs: [pluginDir],
      config: { "mcp-tunnels:baseUrl": { value: baseUrl! } },
      program: async () => ({ tunnelId: nativeResource("Tunnel", "edge", { displayName: "e2e-native-config" }, ["tunnelId"]).tunnelId }),
    });
    const up = await stack.up();
    const tunnelId = up.outputs.tunnelId?.value as string;
    expect((await emulator.tunnels()).map((t) => t.id)).toContain(tunnelId);
    await stack.destroy();
  });
});
