import * as pulumi from "@pulumi/pulumi";
import { RESOURCE_URN_INPUT } from "../../provider/kit/create-journal";
import { typeToken } from "../../core/schemas/field";
import { entryOf } from "../../core/schemas/registry";
import { resourceClass, type ArgsOf } from "./tunnels-resource";

const entry = entryOf("tunnel");
export type TunnelArgs = ArgsOf<typeof entry.schema>;

/** An MCP tunnel. Destroying it archives the tunnel, which is irreversible. */
export class Tunnel extends resourceClass(entry) {
  constructor(name: string, args: TunnelArgs, opts?: pulumi.CustomResourceOptions) {
    // The provider keys its create journal by this resource's URN (see provider/tunnel.ts).
    const withUrn = { ...args, [RESOURCE_URN_INPUT]: urnOf(name, typeToken(entry.schema.typeName), opts?.parent) };
    super(name, withUrn, opts);
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
