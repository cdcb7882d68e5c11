import type * as pulumi from "@pulumi/pulumi";
import { isTunnelsApiError } from "../core/api/errors";
import { rotationDueAt, scheduledRotationDueAt, tunnelTokenSchema, type TunnelTokenOutputs } from "../core/schemas/tunnel-token";
import { clientsFrom, type ApiClients } from "./kit/clients";
import { addDays, type Clock } from "./kit/clock";
import { inContext } from "./kit/errors";
import { changedFields, checkInputs, diffInputs, engineInputs, inputsFrom, type Props } from "./kit/inputs";
import { configure, GONE, forEngine } from "./kit/provider-module";
import { providerRuntime, runtimeClock, type ProviderRuntime } from "./kit/runtime";

const RESOURCE = "TunnelToken";
const shape = tunnelTokenSchema.inputs.shape;

/**
 * The tunnel's connector token. create = reveal (audited); a changed `rotation`, or a due
 * `rotateAt`, is an in-place update that rotates. Refresh never reveals unless asked to
 * (`mcpTunnels:revealOnRefresh`), because every reveal is audited.
 */
export class TunnelTokenProvider implements pulumi.dynamic.ResourceProvider {
  constructor(
    private readonly clients: ApiClients,
    private readonly clock: Clock,
    private readonly runtime: ProviderRuntime,
  ) {}

  async check(olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const checked = checkInputs(tunnelTokenSchema, { ...news, rotateAt: undefined });
    const every = checked.known.rotateEveryDays;
    if (checked.failures.length > 0 || typeof every !== "number") return { inputs: checked.inputs, failures: checked.failures };
    return { inputs: { ...checked.inputs, rotateAt: this.nextRotateAt(olds, checked.inputs, every) }, failures: [] };
  }

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    return diffInputs(shape, olds, news);
  }

  async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const args = engineInputs(tunnelTokenSchema, "create", inputs);
    return inContext(`${RESOURCE} for ${args.tunnelId}`, "create", async () => {
      const revealed = await this.clients.tunnels().tunnels.revealToken(args.tunnelId);
      const outs = outputsOf(revealed, this.clock.now(), args.rotateAt);
      return { id: `${args.tunnelId}/token`, outs: { ...inputs, ...outs } };
    });
  }

  async read(id: string, props: Props): Promise<pulumi.dynamic.ReadResult> {
    const tunnelId = String(props.tunnelId);
    return inContext(`${RESOURCE} for ${tunnelId}`, "read", async () => {
      try {
        const tunnel = await this.clients.tunnels().tunnels.retrieve(tunnelId);
        if (tunnel.archivedAt) return GONE;
      } catch (error) {
        if (isTunnelsApiError(error, "TUNNELS_NOT_FOUND")) return GONE;
        throw error;
      }
      let outs = props;
      // A state without a token is an import: the token it manages is revealed, and audited.
      if (props.tokenId === undefined || this.runtime.setting("revealOnRefresh") === "true") {
        const revealed = await this.clients.tunnels().tunnels.revealToken(tunnelId);
        if (revealed.id !== props.tokenId) outs = { ...props, token: revealed.tunnelToken, tokenId: revealed.id };
      }
      return { id, props: outs, inputs: inputsFrom(shape, outs) };
    });
  }

  async update(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
    const args = engineInputs(tunnelTokenSchema, "update", news);
    const manual = changedFields({ rotation: shape.rotation }, olds, news).length > 0;
    const scheduled = scheduledRotationDueAt(olds, news) !== undefined;
    if (!manual && !scheduled) return { outs: { ...olds, ...news, nextRotationAt: args.rotateAt } };
    return inContext(`${RESOURCE} for ${args.tunnelId}`, "update", async () => {
      const reason = args.reason ?? (manual ? "rotation input changed" : `scheduled rotation, every ${args.rotateEveryDays} days`);
      const rotated = await this.clients.tunnels().tunnels.rotateToken(args.tunnelId, { reason });
      return { outs: { ...olds, ...news, ...outputsOf(rotated, this.clock.now(), args.rotateAt) } };
    });
  }

  async delete(): Promise<void> {
    // A tunnel always has a token; forgetting it is all that delete can do. Archiving the
    // Tunnel invalidates it.
  }

  /**
   * The derived `rotateAt`: one period after the last rotation. A rotation that is due now, a
   * changed `rotation`, or a new token start a new period, which the preview shows as a change.
   */
  private nextRotateAt(olds: Props, news: Props, every: number): string {
    const now = this.clock.now();
    const restart = addDays(now, every).toISOString();
    if (olds.tunnelId !== news.tunnelId || changedFields({ rotation: shape.rotation }, olds, news).length > 0) return restart;
    const due = rotationDueAt(olds, every);
    if (!Number.isFinite(due)) return restart;
    return due <= now.getTime() ? restart : new Date(due).toISOString();
  }
}

function outputsOf(token: { id: string; tunnelToken: string }, now: Date, rotateAt: string | undefined): TunnelTokenOutputs {
  return { token: token.tunnelToken, tokenId: token.id, rotatedAt: now.toISOString(), ...(rotateAt ? { nextRotationAt: rotateAt } : {}) };
}

export const provider = forEngine(tunnelTokenSchema, new TunnelTokenProvider(clientsFrom(), runtimeClock, providerRuntime));
export { configure };
