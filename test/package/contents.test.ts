import * as fs from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTempDir } from "../harness/engine";
import { cleanEnv, closedRegistryUrl, packedPackage, run, type PackedPackage } from "./packed-package";

// What `make package` puts in the tarball, against what a user needs: the modules the entry points
// (package.json `exports` and `bin`) reach, their types, and the documents the README leads to.

interface Manifest {
  name: string;
  version: string;
  license: string;
  main: string;
  types: string;
  exports: Record<string, string | Record<string, string>>;
  bin: Record<string, string>;
  engines: { node: string };
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Always in a package, whatever `files` says; package.json is also an export. */
const ALWAYS_SHIPPED = ["package.json", "README.md", "LICENSE"];
/** Shipped whole: the README links into them, and a copied example needs every file of its directory. */
const DOCUMENT_TREES = ["docs", "examples"];
const SHIPPED_DATA = ["schema.json"];

const posix = path.posix;
const isFile = (file: string): boolean => fs.existsSync(file) && fs.statSync(file).isFile();

function filesUnder(root: string, dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => posix.relative(root, path.join(entry.parentPath, entry.name).split(path.sep).join("/")));
}

/** Export targets by kind; a `*` pattern stands for the files of its directory (no deeper). */
function exportTargets(tree: string, manifest: Manifest, subpath?: string): { code: string[]; types: string[]; other: string[] } {
  const code: string[] = [];
  const types: string[] = [];
  const other: string[] = [];
  const expand = (target: string): string[] => {
    const clean = posix.normalize(target);
    if (!clean.includes("*")) return [clean];
    const [prefix, suffix] = posix.basename(clean).split("*") as [string, string];
    return fs
      .readdirSync(path.join(tree, posix.dirname(clean)))
      .filter((name) => name.startsWith(prefix) && name.endsWith(suffix) && name.length > prefix.length + suffix.length)
      .map((name) => posix.join(posix.dirname(clean), name));
  };
  for (const [key, value] of Object.entries(manifest.exports)) {
    if (subpath !== undefined && !matchesExport(key, subpath)) continue;
    const conditions = typeof value === "string" ? { default: value } : value;
    for (const [condition, target] of Object.entries(conditions)) {
      const targets = subpath !== undefined && key.includes("*") ? [posix.normalize(target.replace("*", subpath.slice(key.indexOf("*"))))] : expand(target);
      const bucket = condition === "types" ? types : target.endsWith(".js") ? code : other;
      bucket.push(...targets);
    }
  }
  return { code, types, other };
}

function matchesExport(key: string, subpath: string): boolean {
  if (!key.includes("*")) return key === subpath;
  const [prefix, suffix] = key.split("*") as [string, string];
  return subpath.startsWith(prefix) && subpath.endsWith(suffix);
}

const packageNameOf = (specifier: string): string => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
const BUILTINS = new Set(builtinModules);
const isBuiltin = (specifier: string): boolean => specifier.startsWith("node:") || BUILTINS.has(packageNameOf(specifier));

const REQUIRES = /\b(?:require|import)\(\s*(["'])([^"'`]+)\1\s*\)/g;
const TYPE_IMPORTS = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\/\/\/\s*<reference\s+path=)(["'])([^"'`]+)\1/g;

/**
 * The files a user's program can load from the package: the entry points and, transitively, every
 * relative or self-referencing `require`/`import()` of the compiled JavaScript; and the
 * declarations of those modules with every file they import types from. Also the bare packages
 * they require, which must be dependencies (or optional peers) for a user's install to have them.
 */
function reachableFromEntryPoints(tree: string, manifest: Manifest): { files: Set<string>; bareRequires: string[] } {
  const files = new Set<string>();
  const bareRequires: string[] = [];
  const entries = exportTargets(tree, manifest);
  const code = [...entries.code, ...Object.values(manifest.bin).map((bin) => posix.normalize(bin)), posix.normalize(manifest.main)];
  const types = [...entries.types, posix.normalize(manifest.types)];
  for (const other of entries.other) files.add(other);

  const resolveRelative = (from: string, specifier: string, declarations: boolean): string | undefined => {
    const base = posix.join(posix.dirname(from), specifier);
    const stem = base.replace(/\.(d\.ts|js)$/, "");
    const candidates = declarations ? [`${stem}.d.ts`, `${stem}/index.d.ts`] : [base, `${base}.js`, `${base}/index.js`];
    return candidates.find((candidate) => isFile(path.join(tree, candidate)));
  };
  const resolve = (from: string, specifier: string, declarations: boolean): string[] => {
    if (specifier.startsWith(".")) {
      const found = resolveRelative(from, specifier, declarations);
      if (!found) throw new Error(`${from} imports ${specifier}, which the build does not have`);
      return [found];
    }
    if (packageNameOf(specifier) === manifest.name) {
      const subpath = specifier === manifest.name ? "." : `.${specifier.slice(manifest.name.length)}`;
      const targets = exportTargets(tree, manifest, subpath);
      return declarations ? targets.types : [...targets.code, ...targets.other];
    }
    if (!isBuiltin(specifier)) bareRequires.push(`${from}: ${specifier}`);
    return [];
  };

  const queue: { file: string; declarations: boolean }[] = [...code.map((file) => ({ file, declarations: false })), ...types.map((file) => ({ file, declarations: true }))];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const { file, declarations } = next;
    if (files.has(file)) continue;
    if (!isFile(path.join(tree, file))) throw new Error(`entry point or import ${file} is not in the build`);
    files.add(file);
    if (!file.endsWith(".js") && !file.endsWith(".d.ts")) continue;
    const text = fs.readFileSync(path.join(tree, file), "utf8");
    // A module ships as its .js and its .d.ts together. tsc also emits a .js for a module that
    // declares only types: shipping it beside its declarations keeps "files" to directory rules
    // rather than a list of such modules that would drift.
    const sibling = declarations ? file.replace(/\.d\.ts$/, ".js") : file.replace(/\.js$/, ".d.ts");
    if (isFile(path.join(tree, sibling))) queue.push({ file: sibling, declarations: !declarations });
    for (const match of text.matchAll(declarations ? TYPE_IMPORTS : REQUIRES)) {
      for (const target of resolve(file, match[2]!, declarations)) queue.push({ file: target, declarations });
    }
  }
  return { files, bareRequires };
}

/** Relative Markdown links (outside fenced code), resolved against the linking file. */
function relativeLinks(root: string, markdown: string): { target: string; resolved: string }[] {
  const text = fs.readFileSync(path.join(root, markdown), "utf8").replace(/^```[\s\S]*?^```/gm, "");
  const links: { target: string; resolved: string }[] = [];
  for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue;
    const file = target.split("#")[0]!;
    links.push({ target, resolved: posix.normalize(posix.join(posix.dirname(markdown), file)) });
  }
  return links;
}

/** The documents: the fixed set, the document trees whole, and whatever shipped Markdown links to. */
function documents(tree: string): Set<string> {
  const found = new Set([...ALWAYS_SHIPPED, ...SHIPPED_DATA, ...DOCUMENT_TREES.flatMap((dir) => filesUnder(tree, dir))]);
  const queue = [...found].filter((file) => file.endsWith(".md"));
  for (let markdown = queue.shift(); markdown; markdown = queue.shift()) {
    for (const { resolved } of relativeLinks(tree, markdown)) {
      if (found.has(resolved) || resolved.startsWith("../") || !isFile(path.join(tree, resolved))) continue;
      found.add(resolved);
      if (resolved.endsWith(".md")) queue.push(resolved);
    }
  }
  return found;
}

let packed: PackedPackage;
let manifest: Manifest;
/** The tarball unpacked: what a user's node_modules/pulumi-mcp-tunnels holds. */
let unpacked: string;
let scratch: string;

beforeAll(async () => {
  packed = await packedPackage();
  manifest = JSON.parse(fs.readFileSync(path.join(packed.tree, "package.json"), "utf8")) as Manifest;
  scratch = makeTempDir("mcp-tunnels-contents");
  await run("tar", ["-xzf", packed.tarball, "-C", scratch], { cwd: scratch });
  unpacked = path.join(scratch, "package");
  console.log(`npm tarball ${path.basename(packed.tarball)}: ${packed.files.length} files, ${packed.size} bytes (${packed.unpackedSize} unpacked)`);
}, 600_000);
afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe("the npm package", () => {
  it("holds exactly the modules its entry points reach, their declarations, and the documents its README leads to", () => {
    const { files: code } = reachableFromEntryPoints(packed.tree, manifest);
    const expected = new Set([...code, ...documents(packed.tree)]);
    const shipped = new Set(packed.files);
    expect({
      shippedButUnreachable: packed.files.filter((file) => !expected.has(file)),
      reachableButNotShipped: [...expected].filter((file) => !shipped.has(file)).sort(),
    }).toEqual({ shippedButUnreachable: [], reachableButNotShipped: [] });
    expect(filesUnder(unpacked, ".").sort()).toEqual(packed.files);
  });

  it("requires at run time only Node built-ins, its dependencies and its declared peers", () => {
    const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies ?? {})]);
    const { bareRequires } = reachableFromEntryPoints(packed.tree, manifest);
    expect(bareRequires.filter((use) => !declared.has(packageNameOf(use.slice(use.indexOf(": ") + 2))))).toEqual([]);
  });

  it("ships no source maps, and no compiled file points at one", () => {
    expect(packed.files.filter((file) => file.endsWith(".map"))).toEqual([]);
    const pointing = packed.files.filter((file) => file.endsWith(".js") && fs.readFileSync(path.join(unpacked, file), "utf8").includes("//# sourceMappingURL="));
    expect(pointing).toEqual([]);
  });

  it("resolves every relative link of its README and shipped documents inside the package", () => {
    const shipped = new Set(packed.files);
    const isShippedDir = (dir: string) => packed.files.some((file) => file.startsWith(`${dir}/`));
    const broken = packed.files
      .filter((file) => file.endsWith(".md"))
      .flatMap((markdown) => relativeLinks(unpacked, markdown).map((link) => ({ markdown, ...link })))
      .filter(({ resolved }) => resolved.startsWith("../") || !(shipped.has(resolved) || isShippedDir(resolved)))
      .map(({ markdown, target }) => `${markdown} → ${target}`);
    expect(broken).toEqual([]);
  });

  it("states the user's Node.js requirement in its README exactly as engines.node does", () => {
    const readme = fs.readFileSync(path.join(unpacked, "README.md"), "utf8");
    const stated = [...readme.matchAll(/Requires Node\.js `([^`]+)`/g)].map((match) => match[1]);
    expect(stated).toEqual([manifest.engines.node]);
  });

  it("ships the full Apache-2.0 text its manifest names as the license", () => {
    expect(manifest.license).toBe("Apache-2.0");
    const license = fs.readFileSync(path.join(unpacked, "LICENSE"), "utf8");
    expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION");
    expect(license).toContain("END OF TERMS AND CONDITIONS");
  });

  it("passes npm publish --dry-run (offline, against a closed registry port, so nothing can be published)", async () => {
    const registry = await closedRegistryUrl();
    const { stdout } = await run("npm", ["publish", "--dry-run", "--offline", `--registry=${registry}`, packed.tarball], { cwd: scratch, env: cleanEnv() });
    expect(stdout).toContain(`+ ${manifest.name}@${manifest.version}`);
  });
});
