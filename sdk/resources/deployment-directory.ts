import * as pulumi from "@pulumi/pulumi";
import type { ComposeProject } from "../../core/deploy/compose-project";
import { entryOf } from "../../core/schemas/registry";
import { resourceClass, type ArgsOf } from "./tunnels-resource";

const entry = entryOf("deployment-directory");
export type DeploymentDirectoryArgs = ArgsOf<typeof entry.schema>;

/** Files written by `pulumi up` with the modes their readers need; nothing is written at preview. */
export class DeploymentDirectory extends resourceClass(entry) {
  /** Arguments for a whole Compose project (a TunnelDeployment's `composeProject`) written into `dir`. */
  static forProject(dir: pulumi.Input<string>, project: pulumi.Input<ComposeProject>): DeploymentDirectoryArgs {
    const output = pulumi.output(project);
    return { dir, files: output.apply((p) => p.files), directories: output.apply((p) => p.directories) };
  }
}
