import * as fs from "node:fs";
import * as path from "node:path";
import { generatedDocs, repoRoot, staleDocs, writeGenerated } from "./generate-files";

// Writes docs/reference/*.md and removes pages of resources that no longer exist.
// Run after `make build`: node dist/scripts/generate-docs.js
const root = repoRoot();
const docs = generatedDocs(root);
writeGenerated(root, docs);
for (const file of staleDocs(root, docs)) {
  fs.rmSync(path.join(root, file));
  console.log(`removed ${file}`);
}
