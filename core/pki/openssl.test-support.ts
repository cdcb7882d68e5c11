// openssl as an independent judge of what pki produces. Tests that use it fall back to
// node:crypto when it is not installed.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const hasOpenssl = ((): boolean => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Runs openssl with `files` written to a temporary directory; `{name}` in args is its path. */
export function openssl(args: string[], files: Record<string, string>): { status: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "pki-openssl-"));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    const resolved = args.map((arg) => arg.replace(/\{(\w[\w.-]*)\}/g, (_, name: string) => join(dir, name)));
    try {
      return { status: 0, output: execFileSync("openssl", resolved, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
    } catch (error) {
      const failed = error as { status?: number; stdout?: string; stderr?: string };
      return { status: failed.status ?? 1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
