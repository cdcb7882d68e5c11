import * as pulumi from "@pulumi/pulumi";

/**
 * Writes files into a directory from the provider process, as a deploy step would (the Compose
 * directory, or a volume the proxy reads). Each file is replaced atomically, so a reader never
 * sees half a certificate.
 */
const localFilesProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    const fs = require("node:fs");
    const path = require("node:path");
    for (const [name, content] of Object.entries(inputs.files as Record<string, string>)) {
      const target = path.join(inputs.dir, name);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(`${target}.tmp`, content, { mode: 0o600 });
      fs.renameSync(`${target}.tmp`, target);
    }
    return { id: inputs.dir, outs: { dir: inputs.dir, files: inputs.files, fileNames: Object.keys(inputs.files).sort() } };
  },
  async diff(_id, olds, news) {
    return { changes: JSON.stringify(olds.files) !== JSON.stringify(news.files) || olds.dir !== news.dir, replaces: olds.dir !== news.dir ? ["dir"] : [] };
  },
  async update(_id, _olds, news) {
    return localFilesProvider.create(news) as Promise<pulumi.dynamic.UpdateResult>;
  },
};

export class LocalFiles extends pulumi.dynamic.Resource {
  declare readonly fileNames: pulumi.Output<string[]>;
  constructor(name: string, args: { dir: string; files: pulumi.Input<Record<string, string>> }, opts?: pulumi.CustomResourceOptions) {
    super(localFilesProvider, name, { ...args, fileNames: undefined }, { ...opts, additionalSecretOutputs: ["files"] });
  }
}
