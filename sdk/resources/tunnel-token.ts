import type * as pulumi from "@pulumi/pulumi";
import { tunnelTokenSchema } from "../schemas/tunnel-token";
import { TunnelsResource } from "./resource-options";

export interface TunnelTokenArgs {
  tunnelId: pulumi.Input<string>;
  /** Change to rotate the token on the next `pulumi up`. */
  rotation?: pulumi.Input<string | number>;
  /** Rotate automatically this many days after the last rotation. */
  rotateEveryDays?: pulumi.Input<number>;
  /** Recorded in the audit log with each rotation. */
  reason?: pulumi.Input<string>;
}

/** The tunnel's connector token (secret). Rotations are in-place updates visible in preview. */
export class TunnelToken extends TunnelsResource {
  declare readonly token: pulumi.Output<string>;
  declare readonly tokenId: pulumi.Output<string>;
  declare readonly rotatedAt: pulumi.Output<string>;
  declare readonly nextRotationAt: pulumi.Output<string | undefined>;
  declare readonly rotateAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: TunnelTokenArgs, opts?: pulumi.CustomResourceOptions) {
    super("tunnel-token", tunnelTokenSchema, name, args, opts);
  }
}
