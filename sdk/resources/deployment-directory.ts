import * as pulumi from "@pulumi/pulumi";
import type { ComposeProject, ProjectDirectory, ProjectFile } from "../deploy/compose-project";
import { deploymentDirectorySchema } from "../schemas/deployment-directory";
import { TunnelsResource } from "./resource-options";

export interface DeploymentDirectoryArgs {
  /** Absolute path (the provider process does not run in the program's directory). */
  dir: pulumi.Input<string>;
  files: pulumi.Input<Record<string, ProjectFile>>;
  directories?: pulumi.Input<Record<string, ProjectDirectory>>;
}

/** Files written by `pulumi up` with the modes their readers need; nothing is written at preview. */
export class DeploymentDirectory extends TunnelsResource {
  declare readonly dir: pulumi.Output<string>;
  declare readonly fileNames: pulumi.Output<string[]>;
  declare readonly checksum: pulumi.Output<string>;
  declare readonly writtenChecksum: pulumi.Output<string>;
  declare readonly ownership: pulumi.Output<"applied" | "not-permitted" | "none-requested">;

  constructor(name: string, args: DeploymentDirectoryArgs, opts?: pulumi.CustomResourceOptions) {
    super("deployment-directory", deploymentDirectorySchema, name, args, opts);
  }

  /** Arguments for a whole Compose project (a TunnelDeployment's `composeProject`) written into `dir`. */
  static forProject(dir: pulumi.Input<string>, project: pulumi.Input<ComposeProject>): DeploymentDirectoryArgs {
    const output = pulumi.output(project);
    return { dir, files: output.apply((p) => p.files), directories: output.apply((p) => p.directories) };
  }
}
