import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

/**
 * Generates the Node.js SDK for a schema with Pulumi's own code generator, to prove schema.json
 * is a package Pulumi accepts. `pulumi package gen-sdk --language nodejs` needs the
 * pulumi-language-nodejs plugin, which the Go module proxy does not serve, so without it the
 * same generator (github.com/pulumi/pulumi/pkg/v3/codegen/nodejs, at the CLI's version) runs
 * from a small Go driver built offline from the modules the CLI was built from.
 */

const run = promisify(execFile);

export interface SdkGeneration {
  /** The command that generated the SDK, for the test's report. */
  via: string;
  /** Root of the generated SDK (the folder holding `index.ts`). */
  dir: string;
}

// What the language host's GeneratePackage does: bind the schema, then nodejs.GeneratePackage.
const DRIVER_SOURCE = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
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

func main() {
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pkg, diags, err := schema.BindSpec(spec, noPackages{}, schema.ValidationOptions{})
	if err != nil || diags.HasErrors() {
		fmt.Fprintln(os.Stderr, "failed to bind schema:", err, diags)
		os.Exit(1)
	}
	files, err := nodejs.GeneratePackage("pulumi", pkg, nil, nil, false, noPackages{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for name, content := range files {
		target := filepath.Join(os.Args[2], name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := os.WriteFile(target, content, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
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

/** The Go driver, built once per CLI version and driver source, from the local module cache only. */
async function driver(pulumiVersion: string): Promise<string> {
  const key = createHash("sha256").update(pulumiVersion).update(DRIVER_SOURCE).digest("hex").slice(0, 12);
  const cache = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "pulumi-mcp-tunnels", `nodejs-sdkgen-${pulumiVersion}-${key}`);
  const binary = path.join(cache, "nodejs-sdkgen");
  if (fs.existsSync(binary)) return binary;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "nodejs-sdkgen-"));
  try {
    fs.writeFileSync(path.join(work, "main.go"), DRIVER_SOURCE);
    fs.writeFileSync(path.join(work, "go.mod"), "module sdkgen.local\n\ngo 1.24\n");
    // Offline: the modules are those `make toolchain` downloaded to build the same CLI version.
    const env = { ...process.env, GOPROXY: "off", GOFLAGS: "-mod=mod", GOSUMDB: "off" };
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
  await run(binary, [options.schemaFile, options.outDir], { env });
  return { via: `pulumi/pkg/v3/codegen/nodejs.GeneratePackage@${version} (pulumi-language-nodejs unavailable)`, dir: findSdkRoot(options.outDir) };
}
