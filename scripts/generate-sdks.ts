import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

/**
 * Generates the SDKs for schema.json with Pulumi's own code generators
 * (github.com/pulumi/pulumi/pkg/v3/codegen/{nodejs,go,python}, at the CLI's version). `pulumi
 * package gen-sdk` needs a language plugin per language, which the Go module proxy does not serve,
 * so a small Go driver over the same generators is built from the modules the CLI was built from.
 * The SDKs are checked in under generated-sdks/ (`make generate-sdks`); a unit test regenerates
 * them and fails on any byte of drift.
 */

const run = promisify(execFile);

export interface SdkGeneration {
  /** The command that generated the SDK, for the test's report. */
  via: string;
  /** Root of the generated SDK (the folder holding `index.ts`). */
  dir: string;
}

// What each language host's GeneratePackage does: bind the schema, then <language>.GeneratePackage.
const DRIVER_SOURCE = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// The schema refers to no other package, so any look-up is an error.
type noPackages struct{}

func (noPackages) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("unexpected reference to package %s", pkg)
}
func (noPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("unexpected reference to package %s", d.Name)
}
func (noPackages) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("unexpected reference to package %s", pkg)
}
func (noPackages) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, fmt.Errorf("unexpected reference to package %s", d.Name)
}

func fail(args ...any) {
	fmt.Fprintln(os.Stderr, args...)
	os.Exit(1)
}

// sdkgen <schema.json> <nodejs|go|python> <out dir>
func main() {
	if len(os.Args) != 4 {
		fail("usage: sdkgen <schema.json> <nodejs|go|python> <out dir>")
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		fail(err)
	}
	pkg, diags, err := schema.BindSpec(spec, noPackages{}, schema.ValidationOptions{})
	if err != nil || diags.HasErrors() {
		fail("failed to bind schema:", err, diags)
	}
	var files map[string][]byte
	switch os.Args[2] {
	case "nodejs":
		files, err = nodejs.GeneratePackage("pulumi", pkg, nil, nil, false, noPackages{})
	case "go":
		files, err = gogen.GeneratePackage("pulumi", pkg, nil)
	case "python":
		files, err = python.GeneratePackage("pulumi", pkg, nil, noPackages{})
	default:
		fail("unknown language", os.Args[2])
	}
	if err != nil {
		fail(err)
	}
	for name, content := range files {
		target := filepath.Join(os.Args[3], name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(target, content, 0o644); err != nil {
			fail(err)
		}
	}
}
`;

/** An environment for the CLI that shares nothing with the user's Pulumi home. */
export function hermeticPulumiEnv(home: string): NodeJS.ProcessEnv {
  return { ...process.env, PULUMI_HOME: home, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" };
}

async function onPath(command: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  return (env.PATH ?? "").split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, command)));
}

function findSdkRoot(dir: string): string {
  const index = fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => path.basename(file) === "index.ts" && !file.includes("types"))
    .sort((a, b) => a.length - b.length)[0];
  if (!index) throw new Error(`no index.ts in the generated SDK under ${dir}`);
  return path.join(dir, path.dirname(index));
}

/** The Go driver, built once per CLI version and driver source. */
async function driver(pulumiVersion: string): Promise<string> {
  const key = createHash("sha256").update(pulumiVersion).update(DRIVER_SOURCE).digest("hex").slice(0, 12);
  const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "pulumi-mcp-tunnels", `sdkgen-${pulumiVersion}-${key}`);
  const binary = path.join(cache, "sdkgen");
  if (fs.existsSync(binary)) return binary;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "sdkgen-"));
  try {
    fs.writeFileSync(path.join(work, "main.go"), DRIVER_SOURCE);
    fs.writeFileSync(path.join(work, "go.mod"), "module sdkgen.local\n\ngo 1.24\n");
    // The modules are those `make toolchain` downloaded to build the same CLI version; the Go
    // generator needs one more (iancoleman/strcase), which the machine's GOPROXY serves.
    const env = { ...process.env, GOFLAGS: "-mod=mod" };
    await run("go", ["get", `github.com/pulumi/pulumi/pkg/v3@${pulumiVersion}`, "github.com/blang/semver@v3.5.1+incompatible"], { cwd: work, env });
    fs.mkdirSync(cache, { recursive: true });
    await run("go", ["build", "-o", `${binary}.partial`, "."], { cwd: work, env, maxBuffer: 16 << 20 });
    fs.renameSync(`${binary}.partial`, binary);
    return binary;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export async function generateNodejsSdk(options: { pulumi: string; schemaFile: string; outDir: string; home: string }): Promise<SdkGeneration> {
  const env = hermeticPulumiEnv(options.home);
  if (await onPath("pulumi-language-nodejs", env)) {
    const args = ["package", "gen-sdk", options.schemaFile, "--language", "nodejs", "--out", options.outDir];
    await run(options.pulumi, args, { env });
    return { via: `pulumi ${args.join(" ")}`, dir: findSdkRoot(options.outDir) };
  }
  const { stdout } = await run(options.pulumi, ["version"], { env });
  const version = stdout.trim();
  if (!(await onPath("go", env))) {
    throw new Error("cannot generate the Node.js SDK: neither pulumi-language-nodejs nor Go is on PATH (run `make toolchain`)");
  }
  const binary = await driver(version);
  await run(binary, [options.schemaFile, "nodejs", options.outDir], { env });
  return { via: `pulumi/pkg/v3/codegen/nodejs.GeneratePackage@${version} (pulumi-language-nodejs unavailable)`, dir: findSdkRoot(options.outDir) };
}

export const SDK_LANGUAGES = ["nodejs", "go", "python"] as const;

/** Where each language's SDK is checked in, relative to the repository root. */
export const GENERATED_SDKS_DIR = "generated-sdks";

/**
 * The Go generator writes no go.mod; this one names the module after the generator's import path
 * (its internal package is imported as `<module>/internal`) and requires the SDK at the CLI's version;
 * its go line is the one that SDK declares (sdk/v3@v3.274.1 needs go 1.26.6).
 */
function goMod(sdkDir: string, pulumiVersion: string): string {
  const sources = fs.readdirSync(sdkDir).filter((file) => file.endsWith(".go")).map((file) => fs.readFileSync(path.join(sdkDir, file), "utf8"));
  const internal = sources.map((text) => /"([^"]+)\/internal"/.exec(text)?.[1]).find(Boolean);
  if (!internal) throw new Error(`cannot find the module path of the generated Go SDK in ${sdkDir}`);
  return `module ${internal}\n\ngo 1.26.6\n\nrequire github.com/pulumi/pulumi/sdk/v3 ${pulumiVersion}\n`;
}

/**
 * Generates every language's SDK for a schema into `<outDir>/<language>`, exactly as it is checked
 * in: the generators' files and, for Go, a go.mod beside the package.
 */
export async function generateSdks(options: { pulumi: string; schemaFile: string; outDir: string; home: string }): Promise<void> {
  const env = hermeticPulumiEnv(options.home);
  if (!(await onPath("go", env))) throw new Error("cannot generate the SDKs: Go is not on PATH (run `make toolchain`)");
  const { stdout } = await run(options.pulumi, ["version"], { env });
  const version = stdout.trim();
  const binary = await driver(version);
  for (const language of SDK_LANGUAGES) {
    const dir = path.join(options.outDir, language);
    await run(binary, [options.schemaFile, language, dir], { env });
    if (language === "go") {
      for (const pkg of fs.readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
        fs.writeFileSync(path.join(dir, pkg.name, "go.mod"), goMod(path.join(dir, pkg.name), version));
      }
    }
  }
}
