import { describe, expect, it } from "vitest";
import { runCommand } from "./command-line";
import { planCommand } from "./plan-command";

function capture() {
  const out = { stdout: "", stderr: "" };
  return { out, io: { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } } };
}

describe("mcp-tunnels plan at a terminal", () => {
  it("refuses to wait for input nobody is piping, with exit 2 and what to do", async () => {
    let read = false;
    const command = planCommand({ stdinIsTerminal: true, readFile: () => ((read = true), "") });
    const { out, io } = capture();
    expect(await runCommand(command, [], io)).toBe(2);
    expect(out.stderr).toBe("mcp-tunnels plan: nothing to read: pipe `pulumi preview --json` into it, or name a file\nRun 'mcp-tunnels plan --help' for usage.\n");
    expect(read).toBe(false);
  });

  it("still reads a named file", async () => {
    const command = planCommand({ stdinIsTerminal: true, readFile: (path) => (path === "plan.json" ? '{"steps":[]}' : "") });
    const { out, io } = capture();
    expect(await runCommand(command, ["plan.json"], io)).toBe(0);
    expect(out.stdout).toContain("No changes to tunnels");
  });
});
