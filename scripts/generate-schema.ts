import { generatedSchema, repoRoot, writeGenerated } from "./generate-files";

// Writes schema.json. Run after `make build`: node dist/scripts/generate-schema.js
writeGenerated(repoRoot(), generatedSchema(repoRoot()));
