import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "./generate-files";
import { GENERATED_SDKS_DIR, generateSdks, SDK_LANGUAGES } from "./generate-sdks";

// Writes generated-sdks/ from schema.json. Run after `make build`: node dist/scripts/generate-sdks-cli.js
async function main(): Promise<void> {
  const root = repoRoot();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-tunnels-sdks-"));
  try {
    fs.mkdirSync(path.join(work, "home"));
    const pulumi = path.join(root, ".tools", "pulumi", "bin", "pulumi");
    await generateSdks({ pulumi, schemaFile: path.join(root, "schema.json"), outDir: path.join(work, "sdks"), home: path.join(work, "home") });
    // Each language's folder is replaced whole, so a file its generator no longer writes does not linger.
    for (const language of SDK_LANGUAGES) {
      fs.rmSync(path.join(root, GENERATED_SDKS_DIR, language), { recursive: true, force: true });
      fs.cpSync(path.join(work, "sdks", language), path.join(root, GENERATED_SDKS_DIR, language), { recursive: true });
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
