import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

export interface ComposeDirectoryArgs {
  /** Absolute path of the directory `docker compose` runs in. */
  dir: string;
  /** Relative path → content. */
  files: pulumi.Input<Record<string, string>>;
  /** Relative paths written with mode 0600 because they hold the token or the server key. */
  privateFiles: string[];
}

/** What state keeps of the files: their content is secret, and already in the inputs, encrypted. */
function filesChecksum(files: Record<string, string>, privateFiles: string[]): string {
  const crypto = require("node:crypto");
  return crypto.createHash("sha256").update(JSON.stringify([Object.entries(files).sort(), [...new Set(privateFiles)].sort()])).digest("hex");
}

/**
 * The provider is serialized into the stack's state and runs in the engine's provider process,
 * so everything it needs is required inside its methods.
 */
const composeDirectoryProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    const fs = require("node:fs");
    const path = require("node:path");
    const files = inputs.files as Record<string, string>;
    const privateFiles = new Set<string>(inputs.privateFiles);
    for (const [name, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
      const target = path.join(inputs.dir, name);
      const mode = privateFiles.has(name) ? 0o600 : 0o644;
      fs.mkdirSync(path.dirname(target), { recursive: true });
      // Written beside the target and renamed over it, so a reader never sees half a key.
      const temporary = `${target}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, content, { mode });
      fs.chmodSync(temporary, mode);
      fs.renameSync(temporary, target);
    }
    const outs = { dir: inputs.dir, fileNames: Object.keys(files).sort(), privateFiles: [...privateFiles].sort(), checksum: filesChecksum(files, inputs.privateFiles) };
    return { id: inputs.dir, outs };
  },

  async diff(_id, olds, news) {
    // During a preview, files that depend on a pending rotation arrive as an unknown value.
    const known = typeof news.files === "object" && news.files !== null && Object.values(news.files).every((value) => typeof value === "string");
    const checksum = known ? filesChecksum(news.files, news.privateFiles) : undefined;
    const replaces = olds.dir === news.dir ? [] : ["dir"];
    return { changes: checksum !== olds.checksum || replaces.length > 0, replaces, deleteBeforeReplace: false };
  },

  async update(id, olds, news) {
    const fs = require("node:fs");
    const path = require("node:path");
    const result = await composeDirectoryProvider.create(news);
    const kept = new Set<string>(result.outs.fileNames);
    for (const name of olds.fileNames as string[]) if (!kept.has(name)) fs.rmSync(path.join(olds.dir, name), { force: true });
    return { outs: result.outs };
  },

  async delete(_id, props) {
    const fs = require("node:fs");
    const path = require("node:path");
    for (const name of props.fileNames as string[]) fs.rmSync(path.join(props.dir, name), { force: true });
    // Directories are removed only when nothing else was put there.
    const dirs = new Set((props.fileNames as string[]).map((name) => path.dirname(name)).filter((dir) => dir !== "."));
    for (const dir of [...[...dirs].sort().reverse().map((d) => path.join(props.dir, d)), props.dir]) {
      try {
        fs.rmdirSync(dir);
      } catch {
        // Not empty, or already gone.
      }
    }
  },
};

/** A directory of files written by `pulumi up`, rewritten when their content changes. */
export class ComposeDirectory extends pulumi.dynamic.Resource {
  declare readonly dir: pulumi.Output<string>;
  declare readonly fileNames: pulumi.Output<string[]>;
  declare readonly checksum: pulumi.Output<string>;

  constructor(name: string, args: ComposeDirectoryArgs, opts?: pulumi.CustomResourceOptions) {
    if (!path.isAbsolute(args.dir)) throw new Error("ComposeDirectory dir must be an absolute path: the provider process does not run in the program's directory");
    super(composeDirectoryProvider, name, { ...args, fileNames: undefined, checksum: undefined }, opts, "compose", "ComposeDirectory");
  }
}
