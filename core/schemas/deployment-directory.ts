import { z } from "zod";
import { field, type ResourceSchema } from "./field";

const owner = z.strictObject({
  uid: z.number().int().min(0, "owner.uid must be a user id (0 or more)"),
  gid: z.number().int().min(0, "owner.gid must be a group id (0 or more)"),
});
const mode = z.number({ error: "mode must be a file mode such as 0o644" }).int().min(0).max(0o777, "mode must be a permission mode from 0 to 0o777 (no setuid, setgid or sticky bits)");

/** A relative path that stays inside the directory. */
const relativePath = (text: string): boolean => text.length > 0 && !text.startsWith("/") && !text.split("/").some((part) => part === ".." || part === "." || part === "");

const projectFile = z.strictObject({
  content: z.string({ error: "content must be a string" }),
  mode,
  owner: owner.optional(),
  modeWithoutOwner: mode.optional(),
  order: z.number().int().optional(),
});
const projectDirectory = z.strictObject({ mode, owner: owner.optional() });

const inputs = z.strictObject({
  dir: field(z.string({ error: "dir is required: an absolute path" }).regex(/^\//, "dir must be an absolute path: the provider process does not run in the program's directory"), {
    description: "Absolute path of the directory to write (e.g. where `docker compose` runs). A change writes the new directory and removes what was written in the old one.",
    replaceOnChanges: true,
  }),
  files: field(
    z.record(z.string(), projectFile).superRefine((files, ctx) => {
      for (const name of Object.keys(files)) {
        if (!relativePath(name)) ctx.addIssue({ code: "custom", path: [name], message: "files keys must be relative paths inside dir, without . or .. segments" });
      }
    }),
    {
      description:
        "Relative path → `{content, mode, owner?, modeWithoutOwner?, order?}` (a `TunnelDeployment`'s `composeProject.files`). Each file is written atomically (a temporary file renamed over it) with its mode; `owner` is applied where the writer may chown, else `modeWithoutOwner` is used. Lower `order` is written first. Secret.",
      secret: true,
    },
  ),
  directories: field(
    z
      .record(z.string(), projectDirectory)
      .superRefine((directories, ctx) => {
        for (const name of Object.keys(directories)) {
          if (!relativePath(name)) ctx.addIssue({ code: "custom", path: [name], message: "directories keys must be relative paths inside dir, without . or .. segments" });
        }
      })
      .optional(),
    { description: "Relative path → `{mode, owner?}` for directories that need a mode or owner of their own (a `TunnelDeployment`'s `composeProject.directories`)." },
  ),
});

const outputs = z.object({
  fileNames: field(z.array(z.string()), { description: "The files this resource wrote, relative to `dir`; delete removes exactly these." }),
  checksum: field(z.string(), { description: "SHA-256 over the files' paths, contents, modes and owners on disk, as of the last write or refresh." }),
  writtenChecksum: field(z.string(), { description: "The checksum as this resource last wrote the files; when a refresh finds `checksum` differs (a file edited, removed or re-moded by hand), the next `up` rewrites them." }),
  ownership: field(z.enum(["applied", "not-permitted", "none-requested"]), {
    description: "Whether requested owners were applied (`not-permitted`: this process may not chown, so `modeWithoutOwner` was used and directory owners must be set by hand, e.g. `sudo chown 65532:65532 data`).",
  }),
});

export const deploymentDirectorySchema = { typeName: "DeploymentDirectory" as const, inputs, outputs } satisfies ResourceSchema;
export type DeploymentDirectoryInputs = z.output<typeof inputs>;
export type DeploymentDirectoryOutputs = z.output<typeof outputs>;
