import * as pulumi from "@pulumi/pulumi";
import { fieldsWhere, TYPE_MODULE, type ResourceSchema, type ResourceState, type SettableInputs } from "../../core/schemas/field";
import type { ResourceKindEntry } from "../../core/schemas/registry";
import { serializedProviderFor } from "../../provider/kit/serialized-provider";

/** A resource's arguments, derived from its schema: every settable input, each a Pulumi Input. */
export type ArgsOf<S extends ResourceSchema> = { [K in keyof SettableInputs<S>]: pulumi.Input<SettableInputs<S>[K]> };

/** A resource's properties, derived from its schema: its inputs as the engine echoes them, and its outputs. */
export type OutputsOf<S extends ResourceSchema> = { readonly [K in keyof ResourceState<S>]-?: pulumi.Output<ResourceState<S>[K]> };

/** The constructor's parameters: `args` may be left out when every input is optional. */
type ConstructorParameters<S extends ResourceSchema> = {} extends ArgsOf<S>
  ? [name: string, args?: ArgsOf<S>, opts?: pulumi.CustomResourceOptions]
  : [name: string, args: ArgsOf<S>, opts?: pulumi.CustomResourceOptions];

export type ResourceClass<S extends ResourceSchema> = new (...parameters: ConstructorParameters<S>) => TunnelsResource & OutputsOf<S>;

/**
 * The base of every resource class: the forwarding provider for its kind, output properties
 * registered (so `resource.tunnelId` exists), and secret outputs taken from field metadata,
 * because a dynamic provider receives and returns plain values.
 */
export abstract class TunnelsResource extends pulumi.dynamic.Resource {
  protected constructor(entry: ResourceKindEntry<string, ResourceSchema, false>, name: string, args: object = {}, opts: pulumi.CustomResourceOptions = {}) {
    const { schema } = entry;
    const props: Record<string, unknown> = {};
    // Every state field becomes an output property, set or not, so each one OutputsOf declares exists.
    for (const key of [...Object.keys(schema.inputs.shape), ...Object.keys(schema.outputs.shape)]) props[key] = undefined;
    Object.assign(props, args);
    const secretOutputs = fieldsWhere(schema.outputs.shape, (meta) => meta.secret === true);
    const secretInputs = fieldsWhere(schema.inputs.shape, (meta) => meta.secret === true);
    super(
      serializedProviderFor(entry.kind),
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

/**
 * The class of a registry entry, typed from its schema: `export class TunnelToken extends
 * resourceClass(entryOf("tunnel-token")) {}` is the whole class; a subclass adds what its kind
 * needs beyond that (e.g. a static helper).
 */
export function resourceClass<S extends ResourceSchema>(entry: ResourceKindEntry<string, S, false>): ResourceClass<S> {
  class Resource extends TunnelsResource {
    constructor(name: string, args?: object, opts?: pulumi.CustomResourceOptions) {
      super(entry, name, args, opts);
    }
  }
  // The output properties exist on every instance (the base registers one per state field), which
  // is what OutputsOf declares; TypeScript cannot see properties added through a mapped type.
  return Resource as unknown as ResourceClass<S>;
}
