import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { deploymentDirectorySchema, type DeploymentDirectoryInputs, type DeploymentDirectoryOutputs } from "../core/schemas/deployment-directory";
import { inContext } from "./kit/errors";
import { checkInputs, diffInputs, engineInputs, inputsFrom, type Props } from "./kit/inputs";
import { configure, forEngine, GONE } from "./kit/provider-module";

const RESOURCE = "DeploymentDirectory";
const shape = deploymentDirectorySchema.inputs.shape;

type Ownership = DeploymentDirectoryOutputs["ownership"];

/**
 * Writes a directory of files with their modes. Content lives only in the (secret, encrypted)
 * inputs; outputs keep names and a checksum, which a refresh recomputes from disk.
 */
export class DeploymentDirectoryProvider implements pulumi.dynamic.ResourceProvider {
  async check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const checked = checkInputs(deploymentDirectorySchema, news);
    return { inputs: checked.inputs, failures: checked.failures };
  }

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    const byInputs = diffInputs(shape, olds, news);
    // A refresh that found drift on disk leaves a checksum that no longer matches the inputs.
    const drifted = typeof olds.writtenChecksum === "string" && olds.checksum !== olds.writtenChecksum;
    return { ...byInputs, changes: byInputs.changes || drifted };
  }

  async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const args = engineInputs(deploymentDirectorySchema, "create", inputs);
    return inContext(`${RESOURCE} ${args.dir}`, "create", async () => ({ id: args.dir, outs: { ...inputs, ...write(args, []) } }));
  }

  async read(id: string, props: Props): Promise<pulumi.dynamic.ReadResult> {
    const dir = String(props.dir);
    if (!fs.existsSync(dir)) return GONE;
    const outs = { ...props, checksum: checksumOnDisk(dir, writtenNames(props)) };
    return { id, props: outs, inputs: inputsFrom(shape, props) };
  }

  async update(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
    const args = engineInputs(deploymentDirectorySchema, "update", news);
    return inContext(`${RESOURCE} ${args.dir}`, "update", async () => {
      const previous = olds.dir === args.dir ? writtenNames(olds) : [];
      return { outs: { ...news, ...write(args, previous) } };
    });
  }

  async delete(_id: string, props: Props): Promise<void> {
    const dir = String(props.dir);
    const directories = props.directories && typeof props.directories === "object" ? Object.keys(props.directories) : [];
    removeWritten(dir, writtenNames(props), directories);
  }
}

/** The files recorded state says this resource wrote (state is read as it is, never validated). */
function writtenNames(props: Props): string[] {
  return Array.isArray(props.fileNames) ? props.fileNames.filter((name): name is string => typeof name === "string") : [];
}

function write(args: DeploymentDirectoryInputs, previouslyWritten: string[]): DeploymentDirectoryOutputs {
  const directories = args.directories ?? {};
  const mayChown = process.getuid?.() === 0;
  const wantsOwner = Object.values(args.files).some((file) => file.owner) || Object.values(directories).some((d) => d.owner);
  fs.mkdirSync(args.dir, { recursive: true });
  for (const [name, directory] of Object.entries(directories).sort(([a], [b]) => a.localeCompare(b))) {
    const target = path.join(args.dir, name);
    fs.mkdirSync(target, { recursive: true, mode: directory.mode });
    fs.chmodSync(target, directory.mode);
    if (directory.owner && mayChown) fs.chownSync(target, directory.owner.uid, directory.owner.gid);
  }
  const ordered = Object.entries(args.files).sort(([a, fa], [b, fb]) => (fa.order ?? 0) - (fb.order ?? 0) || a.localeCompare(b));
  for (const [name, file] of ordered) {
    const target = path.join(args.dir, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const mode = file.owner && !mayChown ? (file.modeWithoutOwner ?? file.mode) : file.mode;
    const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
    const handle = fs.openSync(temporary, "w", 0o600);
    try {
      fs.writeSync(handle, file.content);
      fs.fsyncSync(handle);
    } finally {
      fs.closeSync(handle);
    }
    // Owner and mode are set before the rename, so the file never exists with the wrong ones.
    if (file.owner && mayChown) fs.chownSync(temporary, file.owner.uid, file.owner.gid);
    fs.chmodSync(temporary, mode);
    fs.renameSync(temporary, target);
  }
  const written = new Set(Object.keys(args.files));
  removeWritten(args.dir, previouslyWritten.filter((name) => !written.has(name)), []);
  const fileNames = [...written].sort();
  const ownership: Ownership = !wantsOwner ? "none-requested" : mayChown ? "applied" : "not-permitted";
  const checksum = checksumOnDisk(args.dir, fileNames);
  return { fileNames, checksum, writtenChecksum: checksum, ownership };
}

function removeWritten(dir: string, fileNames: string[], directories: string[]): void {
  for (const name of fileNames) fs.rmSync(path.join(dir, name), { force: true });
  const parents = new Set([...fileNames.map((name) => path.dirname(name)), ...directories].filter((name) => name !== "."));
  // Deepest first; a directory that still holds anything (someone else's files) stays.
  for (const name of [...parents].sort((a, b) => b.length - a.length)) removeIfEmpty(path.join(dir, name));
  if (fileNames.length > 0) removeIfEmpty(dir);
}

function removeIfEmpty(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Not empty, or already gone.
  }
}

/** Over paths, contents, modes and owners, in a fixed order; a missing file counts as its absence. */
function checksumOnDisk(dir: string, fileNames: string[]): string {
  const hash = createHash("sha256");
  for (const name of [...fileNames].sort()) {
    const target = path.join(dir, name);
    hash.update(`${name}\0`);
    if (!fs.existsSync(target)) {
      hash.update("missing\0");
      continue;
    }
    const stats = fs.statSync(target);
    hash.update(`${stats.mode & 0o777}:${stats.uid}:${stats.gid}\0`);
    hash.update(fs.readFileSync(target));
    hash.update("\0");
  }
  return hash.digest("hex");
}

export const provider = forEngine(deploymentDirectorySchema, new DeploymentDirectoryProvider());
export { configure };
