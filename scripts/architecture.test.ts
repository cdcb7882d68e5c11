import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");

/**
 * The floors of the house, bottom up, and what each may import. The product is core/ (the
 * contract, the schemas, then pki, the API client and the pure renderers), provider/ (the kit,
 * then one provider per kind) and sdk/ (the resource classes, the CLI, the public index). The
 * emulator and the twins stand beside the product: they may use it, it never imports them.
 * Every folder with sources must be listed here.
 */
const LAYERS: { folder: string; may: string[]; notPackages?: RegExp[] }[] = [
  { folder: "core/contract", may: [], notPackages: [/^@pulumi\//, /^undici$/, /^@anthropic-ai\//] },
  { folder: "core/schemas", may: ["core/contract"], notPackages: [/^@pulumi\//, /^undici$/, /^@anthropic-ai\//] },
  { folder: "core/pki", may: ["core/contract"], notPackages: [/^@pulumi\//, /^undici$/, /^@anthropic-ai\//, /^node:(http|https|net|tls|dgram)$/] },
  { folder: "core/api", may: ["core/contract"], notPackages: [/^@pulumi\//] },
  { folder: "core/deploy", may: ["core/contract", "core/schemas"], notPackages: [/^@pulumi\//, /^undici$/] },
  { folder: "core/plan", may: ["core/contract", "core/schemas"], notPackages: [/^@pulumi\//, /^undici$/] },
  { folder: "provider/kit", may: ["core/contract", "core/schemas", "core/pki", "core/api"] },
  { folder: "provider", may: ["provider/kit", "core/contract", "core/schemas", "core/pki", "core/api", "core/deploy"] },
  { folder: "sdk/resources", may: ["provider/kit", "core/contract", "core/schemas", "core/pki", "core/deploy"] },
  { folder: "sdk/cli", may: ["core/plan"] },
  { folder: "sdk", may: ["sdk/resources", "core/contract", "core/schemas", "core/pki", "core/deploy"] },
  // The resource provider plugin: serves the providers of provider/ to the engine by type token.
  { folder: "native", may: ["provider", "provider/kit", "core/contract", "core/schemas"] },
  // Beside the product.
  { folder: "emulator", may: ["core/contract", "core/pki", "core/api", "sdk/cli"] },
  { folder: "twin", may: ["emulator", "core/contract", "core/pki", "core/deploy", "core/schemas"] },
  // Tooling and tests may use anything of the repository.
  { folder: "scripts", may: ["*"] },
  { folder: "bench", may: ["*"] },
  { folder: "test", may: ["*"] },
  // Pulumi's generated SDKs (make generate-sdks): each imports only itself and its language's Pulumi SDK.
  { folder: "generated-sdks", may: [] },
  // An example is a project a user copies: it imports the package by name, nothing outside itself by path.
  { folder: "examples", may: [] },
];

const SOURCE = /\.(ts|mts|cts|js|cjs|mjs)$/;
const sources = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
  .split("\n")
  .filter((file) => SOURCE.test(file) && file.includes("/") && fs.existsSync(path.join(ROOT, file)));

/** The layer a file lives on: the longest listed folder that contains it. */
function layerOf(file: string) {
  return LAYERS.filter((layer) => file.startsWith(`${layer.folder}/`)).sort((a, b) => b.folder.length - a.folder.length)[0];
}

function resolveRelative(from: string, specifier: string): string {
  const base = path.normalize(path.join(path.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.mts`, `${base}.cjs`, `${base}.js`, `${base}/index.ts`]) {
    const full = path.join(ROOT, candidate);
    if (fs.existsSync(full) && fs.statSync(full).isFile()) return candidate;
  }
  return base;
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  return [...text.matchAll(/(?:\bfrom|\bimport|\brequire)\s*\(?\s*["']([^"']+)["']/g)].map((match) => match[1]!);
}

function violations(layer: (typeof LAYERS)[number]): string[] {
  const own = sources.filter((file) => layerOf(file) === layer && !/\.test(-support)?\.ts$/.test(file));
  const wrong: string[] = [];
  for (const file of own) {
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith(".")) {
        if (layer.notPackages?.some((pattern) => pattern.test(specifier))) wrong.push(`${file} → package ${specifier}`);
        continue;
      }
      const target = resolveRelative(file, specifier);
      if (layer.folder === "examples") {
        if (!target.startsWith(`${path.dirname(file)}/`)) wrong.push(`${file} → ${target} (outside the example)`);
        continue;
      }
      const targetLayer = layerOf(target);
      if (targetLayer === layer || layer.may.includes("*") || (targetLayer && layer.may.includes(targetLayer.folder))) continue;
      wrong.push(`${file} → ${target}${targetLayer ? "" : " (outside every layer)"}`);
    }
  }
  return wrong;
}

describe("the layers of the house", () => {
  it("covers every folder that holds sources", () => {
    expect(sources.filter((file) => !layerOf(file))).toEqual([]);
  });

  it.each(LAYERS.map((layer) => [layer.folder, layer] as const))("%s imports only what its floor may", (_, layer) => {
    expect(violations(layer)).toEqual([]);
  });

  it("keeps test support out of the product's folders", () => {
    const product = sources.filter((file) => /^(core|provider|sdk|emulator)\//.test(file));
    expect(product.filter((file) => /(^|\/)(testing|test-support)\.ts$/.test(file))).toEqual([]);
  });
});
