import * as pulumi from "@pulumi/pulumi";
import { SERIALIZED_PROVIDER_KEY } from "../../core/schemas/engine-values";

/**
 * A dependent that consumes outputs, the way a Kubernetes Secret or a config file would: when
 * what it consumes changes, the plan shows it updating.
 */
const sinkProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: "sink", outs: inputs };
  },
  async diff(_id, olds, news) {
    const keys = Object.keys(news).filter((key) => key !== SERIALIZED_PROVIDER_KEY && JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
    return { changes: keys.length > 0 };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
};

export class Sink extends pulumi.dynamic.Resource {
  constructor(name: string, consumes: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
    super(sinkProvider, name, consumes, opts);
  }
}
