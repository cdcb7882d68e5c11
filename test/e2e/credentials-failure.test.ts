import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tunnels from "../../sdk";
import { TestEmulator } from "../harness/emulator";
import { createHermeticStack } from "../harness/stack";

let emulator: TestEmulator;
beforeAll(async () => {
  emulator = await TestEmulator.start();
});
afterAll(() => emulator.close());

async function outputOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    // The Automation API's error carries what the CLI printed, diagnostics included.
    return (error as Error).message;
  }
  throw new Error("expected the operation to fail");
}

describe("a spent identity token", () => {
  it("reads as one error with what to do, the other resources pointing at it, and no stack trace", async () => {
    const hermetic = await createHermeticStack({
      env: await emulator.engineEnv(),
      program: async () => {
        const deployment = new tunnels.TunnelDeployment("prod", { displayName: "spent-token", routes: { mcp: "http://10.0.0.5:8080" } });
        return { urls: deployment.mcpServerUrls };
      },
    });
    await hermetic.stack.up();
    // The access token minted from the identity token is gone (another machine, a cleaned cache);
    // the identity token itself was exchanged by the up above, so the exchange now refuses it.
    fs.rmSync(hermetic.env.MCP_TUNNELS_CACHE_DIR!, { recursive: true, force: true });

    const output = await outputOf(() => hermetic.stack.refresh());
    const diagnostics = output.slice(output.lastIndexOf("Diagnostics:"));
    const explained = diagnostics.match(/read failed: [\w.]+: the federation token exchange was denied \(status 401, request req_\w+\)\. The identity token is still valid \(until [^)]+\), so it was most likely exchanged already: identity tokens are single use/g) ?? [];
    const pointers = diagnostics.match(/read failed for the same reason as .+ read \(AUTHENTICATION_FAILED: the federation token exchange was denied\); that error says what to do/g) ?? [];
    expect(explained).toHaveLength(1);
    // Tunnel, TunnelToken and TunnelCertificate read through the API; the CA and server certificate do not.
    expect(pointers).toHaveLength(2);
    expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(output).not.toMatch(/ResourceOperationError/);
  });
});
