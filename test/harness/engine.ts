import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const TOOLCHAIN_ROOT = path.join(REPO_ROOT, ".tools", "pulumi");
const NODE_BIN = path.join(REPO_ROOT, ".tools", "node", "bin");

let command: Promise<PulumiCommand> | undefined;

/** The CLI that `make toolchain` installed; never a download, never a mock. */
export function pulumiCommand(): Promise<PulumiCommand> {
  if (!fs.existsSync(path.join(TOOLCHAIN_ROOT, "bin", "pulumi"))) {
    throw new Error(`no Pulumi CLI at ${TOOLCHAIN_ROOT}/bin/pulumi: run \`make toolchain\` first`);
  }
  command ??= PulumiCommand.get({ root: TOOLCHAIN_ROOT });
  return command;
}

/**
 * Environment for one hermetic engine run: its own PULUMI_HOME and file backend, a passphrase
 * secrets provider, no update checks or plugin downloads, and module resolution that lets the
 * serialized dynamic provider find `@pulumi/pulumi` and `pulumi-mcp-tunnels`.
 */
export function hermeticEngineEnv(dir: string, extra: Record<string, string> = {}, pluginDirs: string[] = []): Record<string, string> {
  const home = path.join(dir, "pulumi-home");
  const backend = path.join(dir, "backend");
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(backend, { recursive: true });
  const pathEntries = [...pluginDirs, path.join(TOOLCHAIN_ROOT, "bin"), fs.existsSync(NODE_BIN) ? NODE_BIN : undefined, process.env.PATH];
  return {
    PATH: pathEntries.filter(Boolean).join(path.delimiter),
    PULUMI_HOME: home,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: "hermetic-test-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_CREDENTIAL_STORE: "plaintext",
    NODE_PATH: path.join(REPO_ROOT, "node_modules"),
    MCP_TUNNELS_CACHE_DIR: path.join(dir, "cache"),
    ...extra,
  };
}

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}
