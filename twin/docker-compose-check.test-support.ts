import { spawnSync } from "node:child_process";
import { expect } from "vitest";
import type { ShellEnv } from "./compose-file";

/**
 * Docker Compose's own verdict on a project directory (`docker-compose config -q`, offline), so
 * the runner is never more lenient than Docker. Undefined when no docker-compose is installed:
 * the check is then skipped with a printed reason, not passed silently.
 */
function dockerComposeConfig(dir: string, env: ShellEnv): { accepted: boolean; output: string } | undefined {
  const shell: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  for (const [name, value] of Object.entries(env)) if (value !== undefined) shell[name] = value;
  const result = spawnSync("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], { cwd: dir, env: shell, encoding: "utf8" });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  return { accepted: result.status === 0, output: `${result.stdout}${result.stderr}`.trim() };
}

let skipReasonPrinted = false;

function verdict(dir: string, env: ShellEnv) {
  const result = dockerComposeConfig(dir, env);
  if (!result && !skipReasonPrinted) {
    skipReasonPrinted = true;
    console.warn("docker-compose is not installed: compose files are not cross-checked against Docker Compose");
  }
  return result;
}

export function expectDockerComposeAccepts(dir: string, env: ShellEnv = {}): void {
  const result = verdict(dir, env);
  if (result) expect(result.accepted, `docker-compose config rejected the file:\n${result.output}`).toBe(true);
}

export function expectDockerComposeRejects(dir: string, env: ShellEnv = {}, pattern?: RegExp): void {
  const result = verdict(dir, env);
  if (!result) return;
  expect(result.accepted, "docker-compose config accepted a file the runner rejects").toBe(false);
  if (pattern) expect(result.output).toMatch(pattern);
}
