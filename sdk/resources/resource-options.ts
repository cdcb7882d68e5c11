import * as pulumi from "@pulumi/pulumi";
import { fieldsWhere, TYPE_MODULE, type ResourceSchema } from "../schemas/field";
import { serializedProviderFor, type ResourceKind } from "../../provider/kit/serialized-provider";

/**
 * The base of every resource class: the forwarding provider for its kind, output properties
 * registered (so `resource.tunnelId` exists), and secret outputs taken from field metadata,
 * because a dynamic provider receives and returns plain values.
 */
export abstract class TunnelsResource extends pulumi.dynamic.Resource {
  protected constructor(kind: ResourceKind, schema: ResourceSchema, name: string, args: object, opts: pulumi.CustomResourceOptions = {}) {
    const props: Record<string, unknown> = {};
    for (const key of Object.keys(schema.outputs.shape)) props[key] = undefined;
    Object.assign(props, args);
    const secretOutputs = fieldsWhere(schema.outputs.shape, (meta) => meta.secret === true);
    const secretInputs = fieldsWhere(schema.inputs.shape, (meta) => meta.secret === true);
    super(
      serializedProviderFor(kind),
      name,
      props,
      {
        ...opts,
        additionalSecretOutputs: [...new Set([...(opts.additionalSecretOutputs ?? []), ...secretOutputs, ...secretInputs])],
      },
      TYPE_MODULE,
      schema.typeName,
    );
  }
}
