import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { Deployment } from "@pulumi/pulumi/automation";
import * as tunnels from "pulumi-mcp-tunnels";
import { REPO_ROOT, makeTempDir } from "../harness/engine";
import { TestEmulator } from "../harness/emulator";
import { expectEmptyPlan } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

// State recorded by a release is the contract with the next build: previewing it with the same
// program must plan nothing. `MCP_TUNNELS_RECORD_STATE=1` records the current build's state.
const FIXTURES = path.join(REPO_ROOT, "test/fixtures/state");
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

/** The program every recorded release ran; it must not change, like a user's program would not. */
function recordedProgram() {
  const deployment = new tunnels.TunnelDeployment("recorded", {
    displayName: "recorded-release",
    routes: { mcp: "http://10.0.0.5:8080" },
    token: { rotateEveryDays: 30 },
  });
  new tunnels.FederationRuleBinding("recorded-wif", { federationRuleId: "fdrl_tunnels", workspaceId: "wrkspc_sandbox" });
  return { tunnelId: deployment.tunnelId, helmValues: deployment.helmValues };
}

interface Recording {
  version: string;
  recordedAt: string;
}

describe("upgrade safety", () => {
  it.runIf(process.env.MCP_TUNNELS_RECORD_STATE === "1")("records this build's state as a fixture", async () => {
    const dir = path.join(FIXTURES, VERSION);
    fs.mkdirSync(dir, { recursive: true });
    const emulatorState = path.join(makeTempDir("recording"), "emulator.json");
    const emulator = await TestEmulator.start({ statePath: emulatorState });
    try {
      const { stack } = await createHermeticStack({ env: await emulator.engineEnv(), program: async () => recordedProgram() });
      await stack.up({ onOutput: (o) => process.stdout.write(o) });
      await expectEmptyPlan(stack);
      // Exported without --show-secrets: secrets stay ciphertext under the harness passphrase.
      const exported = execFileSync(stack.workspace.pulumiCommand.command, ["stack", "export", "--stack", "test"], {
        cwd: stack.workspace.workDir,
        env: { ...process.env, ...stack.workspace.envVars },
        encoding: "utf8",
      });
      fs.writeFileSync(path.join(dir, "stack.json"), exported);
    } finally {
      await emulator.close();
    }
    fs.copyFileSync(emulatorState, path.join(dir, "emulator-state.json"));
    fs.writeFileSync(path.join(dir, "recording.json"), `${JSON.stringify({ version: VERSION, recordedAt: new Date().toISOString() } satisfies Recording, null, 2)}\n`);
  });

  const releases = fs.existsSync(FIXTURES) ? fs.readdirSync(FIXTURES).filter((name) => fs.existsSync(path.join(FIXTURES, name, "stack.json"))) : [];
  it("has at least one recorded release to check", () => {
    expect(releases.length).toBeGreaterThan(0);
  });

  it.each(releases)("state recorded by %s previews with this build as no change, and refreshes clean", async (release) => {
    const dir = path.join(FIXTURES, release);
    const recording = JSON.parse(fs.readFileSync(path.join(dir, "recording.json"), "utf8")) as Recording;
    const emulatorState = path.join(makeTempDir("replay"), "emulator.json");
    fs.copyFileSync(path.join(dir, "emulator-state.json"), emulatorState);
    const emulator = await TestEmulator.start({ statePath: emulatorState });
    try {
      // Both clocks go back to the recording, so renewal and rotation are judged as they were then.
      const offsetSeconds = Math.round((Date.parse(recording.recordedAt) - Date.now()) / 1000) + 60;
      await emulator.control("POST", "/_emulator/clock", { offset_seconds: offsetSeconds });
      const hermetic = await createHermeticStack({ env: await emulator.engineEnv(), program: async () => recordedProgram() });
      hermetic.setProviderClockOffset(offsetSeconds);
      const deployment = JSON.parse(fs.readFileSync(path.join(dir, "stack.json"), "utf8")) as Deployment;
      await hermetic.stack.importStack(deployment);
      await expectEmptyPlan(hermetic.stack);
      const refresh = await hermetic.stack.refresh();
      expect(Object.keys(refresh.summary.resourceChanges ?? {}).sort()).toEqual(["same"]);
      await expectEmptyPlan(hermetic.stack);
    } finally {
      await emulator.close();
    }
  });
});
