import * as pulumi from "@pulumi/pulumi";
import { RESOURCE_URN_INPUT } from "../../provider/kit/create-journal";
import { typeToken } from "../schemas/field";
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
    // The provider keys its create journal by this resource's URN (see provider/tunnel.ts).
    super("tunnel", tunnelSchema, name, { ...args, [RESOURCE_URN_INPUT]: urnOf(name, typeToken(tunnelSchema.typeName), opts?.parent) }, opts);
  }
}

/**
 * The URN the engine gives this resource. The parent's URN goes through a plain promise: an input
 * derived from a component's `urn` Output would make this resource depend on the component, that
 * is on all of its children, itself included, and its registration would wait forever.
 */
function urnOf(name: string, type: string, parent: pulumi.Resource | undefined): pulumi.Output<string> {
  const parentUrn = parent ? pulumi.output(new Promise<string>((resolve) => void parent.urn.apply(resolve))) : undefined;
  return pulumi.createUrn(name, type, parentUrn);
}
