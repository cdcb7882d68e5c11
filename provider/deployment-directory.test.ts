import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DeploymentDirectoryProvider } from "./deployment-directory";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("DeploymentDirectory", () => {
  it("reports a directory it cannot write as FILESYSTEM_FAILED", async () => {
    const scratch = mkdtempSync(join(tmpdir(), "deployment-directory-"));
    dirs.push(scratch);
    writeFileSync(join(scratch, "a-file"), "");
    const failure = new DeploymentDirectoryProvider().create({ dir: join(scratch, "a-file", "project"), files: { "compose.yaml": { content: "x", mode: 0o644 } } });
    await expect(failure).rejects.toMatchObject({ code: "FILESYSTEM_FAILED", operation: "create" });
  });
});
