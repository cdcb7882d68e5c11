import type * as pulumi from "@pulumi/pulumi";
import { tunnelSchema } from "../schemas/tunnel";
import { TunnelsResource } from "./resource-options";

export interface TunnelArgs {
  /** Name shown in the console; a change replaces the tunnel (the API cannot rename). */
  displayName: pulumi.Input<string>;
  /** Take over an existing tunnel (`tnl_…`) instead of creating one. */
  adoptTunnelId?: pulumi.Input<string>;
}

/** An MCP tunnel. Destroying it archives the tunnel, which is irreversible. */
export class Tunnel extends TunnelsResource {
  declare readonly tunnelId: pulumi.Output<string>;
  declare readonly domain: pulumi.Output<string>;
  declare readonly displayName: pulumi.Output<string>;
  declare readonly createdAt: pulumi.Output<string>;

  constructor(name: string, args: TunnelArgs, opts?: pulumi.CustomResourceOptions) {
    super("tunnel", tunnelSchema, name, args, opts);
  }
}
