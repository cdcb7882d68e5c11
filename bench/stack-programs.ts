import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import * as tunnels from "pulumi-mcp-tunnels";

/**
 * The three stacks compared: N TunnelDeployments in manual mode, and two floors with the same
 * resources in the same dependency shape — a component per deployment holding five resources,
 * tunnel and CA first, then the CA registration and the token, then the server certificate — so
 * the engine does the same walk and only the providers differ.
 */
export type StackKind = "ours" | "dynamicFloor" | "nativeFloor";

export const STACK_KINDS: readonly StackKind[] = ["dynamicFloor", "nativeFloor", "ours"];

export const STACK_LABELS: Record<StackKind, string> = {
  ours: "TunnelDeployment (manual)",
  dynamicFloor: "floor: no-op dynamic",
  nativeFloor: "floor: no-op native (Go)",
};

export const NATIVE_NOOP_TYPE = "benchnoop:index:Noop";

export function tunnelDeployments(count: number): PulumiFn {
  return async () => {
    for (let i = 0; i < count; i++) {
      new tunnels.TunnelDeployment(`bench-${i}`, { displayName: `bench-${i}`, routes: { mcp: "http://10.0.0.5:8080" } });
    }
  };
}

/** The floor's provider: create answers with an id and the inputs; everything else is the default. */
const noopProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: require("node:crypto").randomUUID(), outs: inputs };
  },
};

class NoopDynamic extends pulumi.dynamic.Resource {
  constructor(name: string, props: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
    super(noopProvider, name, props, opts);
  }
}

class NoopNative extends pulumi.CustomResource {
  constructor(name: string, props: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) {
    super(NATIVE_NOOP_TYPE, name, props, opts);
  }
}

class Group extends pulumi.ComponentResource {
  constructor(name: string, build: (child: pulumi.CustomResourceOptions) => void) {
    super("bench:index:Group", name);
    build({ parent: this });
    this.registerOutputs({});
  }
}

type NoopClass = new (name: string, props: Record<string, pulumi.Input<unknown>>, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

function floor(count: number, Noop: NoopClass): PulumiFn {
  return async () => {
    for (let i = 0; i < count; i++) {
      new Group(`bench-${i}`, (child) => {
        const tunnel = new Noop(`bench-${i}-tunnel`, { displayName: `bench-${i}` }, child);
        const ca = new Noop(`bench-${i}-ca`, { commonName: `bench-${i}` }, child);
        const registration = new Noop(`bench-${i}-ca-registration`, { tunnelId: tunnel.id, caId: ca.id }, child);
        new Noop(`bench-${i}-server-certificate`, { caId: ca.id, tunnelId: tunnel.id }, { ...child, dependsOn: [registration] });
        new Noop(`bench-${i}-token`, { tunnelId: tunnel.id }, child);
      });
    }
  };
}

export function stackProgram(kind: StackKind, count: number): PulumiFn {
  switch (kind) {
    case "ours":
      return tunnelDeployments(count);
    case "dynamicFloor":
      return floor(count, NoopDynamic);
    case "nativeFloor":
      return floor(count, NoopNative);
  }
}
