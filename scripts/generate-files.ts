import * as fs from "node:fs";
import * as path from "node:path";
import { COMPONENT_SCHEMAS, RESOURCE_SCHEMAS, SHARED_TYPE_NAMES } from "../sdk/schemas/index";
import { DOCS_DIR, generateDocs, kebabCase, type Example } from "./docs-generator";
import { generateSchemaJson, type GeneratorSources } from "./schema-generator";

/**
 * Everything `make generate` writes, computed in memory from the repository: the generators are
 * pure, this is where they meet the file system. The drift test compares it with the files.
 */

export const SCHEMA_FILE = "schema.json";

/** The repository root, from source (`scripts/`) or compiled output (`dist/scripts/`). */
export function repoRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "pulumi-mcp-tunnels") return dir;
    if (path.dirname(dir) === dir) throw new Error(`no pulumi-mcp-tunnels package.json above ${from}`);
  }
}

export function readSources(root: string): GeneratorSources {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  const prose = (typeName: string): string => {
    const file = path.join(root, "sdk", "resources", `${kebabCase(typeName)}.md`);
    if (!fs.existsSync(file)) throw new Error(`${typeName} has no prose: write ${path.relative(root, file)} (what it is, what create/read/update/delete do on the API)`);
    return fs.readFileSync(file, "utf8");
  };
  return {
    info: { version: manifest.version, description: manifest.description, license: manifest.license, npmPackage: manifest.name },
    resources: [
      ...RESOURCE_SCHEMAS.map((schema) => ({ schema, isComponent: false, prose: prose(schema.typeName) })),
      ...COMPONENT_SCHEMAS.map((schema) => ({ schema, isComponent: true, prose: prose(schema.typeName) })),
    ],
    typeNames: SHARED_TYPE_NAMES,
  };
}

const REGION = (typeName: string): RegExp => new RegExp(`^[ \\t]*// #region ${typeName}\\b.*\\n([\\s\\S]*?)^[ \\t]*// #endregion`, "m");

function dedent(code: string): string {
  const lines = code.replace(/\s+$/, "").split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^[ \t]*/)![0].length));
  return lines.map((l) => l.slice(indent)).join("\n");
}

/**
 * Examples for the docs, preferred over the generated snippet: `examples/<kebab-name>/index.ts`
 * whole, else the first `// #region <TypeName>` … `// #endregion` in any `examples/<dir>/index.ts`.
 */
export function readExamples(root: string, typeNames: string[]): Map<string, Example> {
  const dir = path.join(root, "examples");
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .sort()
        .map((name) => `examples/${name}/index.ts`)
        .filter((file) => fs.existsSync(path.join(root, file)))
    : [];
  const examples = new Map<string, Example>();
  for (const typeName of typeNames) {
    const own = `examples/${kebabCase(typeName)}/index.ts`;
    if (files.includes(own)) {
      examples.set(typeName, { file: own, code: fs.readFileSync(path.join(root, own), "utf8").trimEnd() });
      continue;
    }
    for (const file of files) {
      const region = fs.readFileSync(path.join(root, file), "utf8").match(REGION(typeName));
      if (region) {
        examples.set(typeName, { file, code: dedent(region[1]!) });
        break;
      }
    }
  }
  return examples;
}

export function generatedSchema(root: string): Map<string, string> {
  return new Map([[SCHEMA_FILE, generateSchemaJson(readSources(root))]]);
}

export function generatedDocs(root: string): Map<string, string> {
  const sources = readSources(root);
  return generateDocs({ ...sources, examples: readExamples(root, sources.resources.map((r) => r.schema.typeName)) });
}

/** Files in the generated docs folder that the generator no longer writes (a removed resource). */
export function staleDocs(root: string, generated: Map<string, string>): string[] {
  const dir = path.join(root, DOCS_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => `${DOCS_DIR}/${name}`)
    .filter((file) => !generated.has(file))
    .sort();
}

export function writeGenerated(root: string, files: Map<string, string>): void {
  for (const [file, content] of files) {
    const target = path.join(root, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!fs.existsSync(target) || fs.readFileSync(target, "utf8") !== content) {
      fs.writeFileSync(target, content);
      console.log(`wrote ${file}`);
    }
  }
}
