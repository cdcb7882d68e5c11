import type * as pulumi from "@pulumi/pulumi";
import { federationRuleBindingSchema, type WORKSPACE_ROLES } from "../schemas/federation-rule-binding";
import { TunnelsResource } from "./resource-options";

export interface FederationRuleBindingArgs {
  /** The console-created rule (`fdrl_…`) with scope `workspace:manage_tunnels`. */
  federationRuleId: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
  workspaceRole?: pulumi.Input<(typeof WORKSPACE_ROLES)[number]>;
}

/** Makes a federation rule's service account able to manage tunnels in a workspace. */
export class FederationRuleBinding extends TunnelsResource {
  declare readonly federationRuleId: pulumi.Output<string>;
  declare readonly organizationId: pulumi.Output<string>;
  declare readonly workspaceId: pulumi.Output<string>;
  declare readonly serviceAccountId: pulumi.Output<string>;
  declare readonly audience: pulumi.Output<string>;
  declare readonly subjectPrefix: pulumi.Output<string>;
  declare readonly membershipCreated: pulumi.Output<boolean>;

  constructor(name: string, args: FederationRuleBindingArgs, opts?: pulumi.CustomResourceOptions) {
    super("federation-rule-binding", federationRuleBindingSchema, name, args, opts);
  }
}
