import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach } from "vitest";
import { stringify } from "yaml";

const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A project directory for one test, removed after it: `docker-compose.yml` from `compose`
 * (a document, emitted with the yaml library, or text as written), plus other files by relative path.
 */
export function projectDir(compose: Record<string, unknown> | string, files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compose-test-"));
  made.push(dir);
  fs.writeFileSync(path.join(dir, "docker-compose.yml"), typeof compose === "string" ? compose : stringify(compose));
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}
