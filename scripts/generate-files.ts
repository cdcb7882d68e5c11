import * as fs from "node:fs";
import * as path from "node:path";
import { RESOURCE_REGISTRY, SHARED_TYPE_NAMES } from "../core/schemas/index";
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
  const prose = (kind: string, typeName: string): string => {
    const file = path.join(root, "sdk", "resources", `${kind}.md`);
    if (!fs.existsSync(file)) throw new Error(`${typeName} has no prose: write ${path.relative(root, file)} (what it is, what create/read/update/delete do on the API)`);
    return fs.readFileSync(file, "utf8");
  };
  return {
    info: { version: manifest.version, description: manifest.description, license: manifest.license, npmPackage: manifest.name },
    // Custom resources first, then components, each in registry order.
    resources: [false, true].flatMap((component) =>
      RESOURCE_REGISTRY.filter((entry) => entry.component === component).map((entry) => ({
        schema: entry.schema,
        isComponent: component,
        prose: prose(entry.kind, entry.schema.typeName),
      })),
    ),
    typeNames: SHARED_TYPE_NAMES,
  };
}

const REGION = (typeName: string): RegExp => new RegExp(`^[ \\t]*// #region ${typeName}\\b.*\\n([\\s\\S]*?)^[ \\t]*// #endregion`, "m");

function dedent(code: string): string {
  const lines = code.replace(/\s+$/, "").split("\n");
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^[ \t]*/)![0].length));
  return lines.map((l) => l.slice(indent)).join("\n");
}

/** The statement that constructs `typeName` (`const x = new TypeName(…);`), whole lines, or undefined. */
export function constructorStatement(source: string, typeName: string): string | undefined {
  const start = source.search(new RegExp(`\\bnew ${typeName}\\(`));
  if (start === -1) return undefined;
  let depth = 0;
  for (let i = source.indexOf("(", start); i < source.length; i++) {
    const char = source[i]!;
    if (source.startsWith("//", i) || source.startsWith("/*", i)) {
      const end = source.startsWith("//", i) ? source.indexOf("\n", i) : source.indexOf("*/", i) + 1;
      if (end <= 0) return undefined;
      i = end;
    } else if (char === '"' || char === "'" || char === "`") {
      // Strings and template literals: brackets inside them do not count.
      for (i++; i < source.length && source[i] !== char; i++) if (source[i] === "\\") i++;
    } else if ("([{".includes(char)) depth++;
    else if (")]}".includes(char) && --depth === 0) {
      const lineStart = source.lastIndexOf("\n", start) + 1;
      const lineEnd = source.indexOf("\n", i);
      return dedent(source.slice(lineStart, lineEnd === -1 ? undefined : lineEnd));
    }
  }
  return undefined;
}

/**
 * Examples for the docs, in order of preference over the snippet generated from the schema:
 * `examples/<kebab-name>/index.ts` whole; a `// #region <TypeName>` … `// #endregion` in any
 * example; the first statement in an example that constructs the resource.
 */
export function readExamples(root: string, typeNames: string[]): Map<string, Example> {
  const dir = path.join(root, "examples");
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
        .flatMap((name) =>
          fs
            .readdirSync(path.join(dir, name))
            .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))
            .sort()
            .map((file) => `examples/${name}/${file}`),
        )
    : [];
  const read = (file: string): string => fs.readFileSync(path.join(root, file), "utf8");
  const examples = new Map<string, Example>();
  for (const typeName of typeNames) {
    const own = `examples/${kebabCase(typeName)}/index.ts`;
    const found: Example | undefined = files.includes(own)
      ? { file: own, code: read(own).trimEnd() }
      : firstOf(files, (file) => read(file).match(REGION(typeName))?.[1], dedent) ?? firstOf(files, (file) => constructorStatement(read(file), typeName));
    if (found) examples.set(typeName, found);
  }
  return examples;
}

function firstOf(files: string[], extract: (file: string) => string | undefined, finish: (code: string) => string = (code) => code): Example | undefined {
  for (const file of files) {
    const code = extract(file);
    if (code !== undefined) return { file, code: finish(code) };
  }
  return undefined;
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
