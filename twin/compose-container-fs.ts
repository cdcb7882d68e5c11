import * as path from "node:path";
import { ContainerFs, type ContainerUser, type Mount } from "./container";

/**
 * A container's file system with its writable layer: what no mount covers lands in `layer`
 * (a host directory standing for the image's root), as in a container without `read_only: true`.
 * With `read_only: true` there is no layer and a write outside a rw mount fails as the kernel's
 * EROFS does.
 */
export class LayeredContainerFs extends ContainerFs {
  private readonly layerMount: Mount | undefined;

  constructor(mounts: Mount[], user: ContainerUser, layer: string | undefined) {
    super(mounts, user);
    this.layerMount = layer === undefined ? undefined : { target: "/", source: layer, readOnly: false };
  }

  override resolve(containerPath: string): { hostPath: string; mount: Mount } | undefined {
    const mounted = super.resolve(containerPath);
    if (mounted || !this.layerMount) return mounted;
    const normalized = path.posix.normalize(containerPath);
    return { hostPath: path.join(this.layerMount.source, normalized), mount: this.layerMount };
  }
}
