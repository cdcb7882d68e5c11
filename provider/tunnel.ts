import type * as pulumi from "@pulumi/pulumi";
import { isTunnelsApiError } from "../sdk/api/errors";
import type { Tunnel as ApiTunnel } from "../sdk/api";
import { tunnelSchema, type TunnelOutputs } from "../sdk/schemas/tunnel";
import { clientsFrom, type ApiClients } from "./kit/clients";
import { inContext } from "./kit/errors";
import { checkInputs, diffInputs, type Props } from "./kit/inputs";
import { configure, GONE, forEngine } from "./kit/provider-module";

const RESOURCE = "Tunnel";

/** create = POST /v1/tunnels (or adopt); delete = archive, which is irreversible. */
export class TunnelProvider implements pulumi.dynamic.ResourceProvider {
  constructor(private readonly clients: ApiClients) {}

  async check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const { inputs, failures } = checkInputs(tunnelSchema, news);
    return { inputs, failures };
  }

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    return diffInputs(tunnelSchema.inputs.shape, olds, news);
  }

  async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const displayName = String(inputs.displayName);
    const adoptTunnelId = inputs.adoptTunnelId as string | undefined;
    return inContext(`${RESOURCE} "${displayName}"`, "create", async () => {
      const tunnel = adoptTunnelId ? await this.adopt(adoptTunnelId, displayName) : await this.clients.tunnels().tunnels.create({ displayName });
      return { id: tunnel.id, outs: outputsOf(tunnel, adoptTunnelId) };
    });
  }

  async read(id: string, props: Props): Promise<pulumi.dynamic.ReadResult> {
    return inContext(`${RESOURCE} ${id}`, "read", async () => {
      let tunnel: ApiTunnel;
      try {
        tunnel = await this.clients.tunnels().tunnels.retrieve(id);
      } catch (error) {
        if (isTunnelsApiError(error, "TUNNELS_NOT_FOUND")) return GONE;
        throw error;
      }
      // An archived tunnel can never serve again: drop it so the next `up` plans a new one.
      if (tunnel.archivedAt) return GONE;
      const outs = outputsOf(tunnel, props.adoptTunnelId as string | undefined);
      return { id, props: outs, inputs: inputsOf(outs) };
    });
  }

  async update(id: string): Promise<pulumi.dynamic.UpdateResult> {
    // Every input replaces; diff never plans an update.
    throw new Error(`${RESOURCE} ${id}: internal error: tunnels have no update API`);
  }

  async delete(id: string): Promise<void> {
    await inContext(`${RESOURCE} ${id}`, "delete", async () => {
      try {
        await this.clients.tunnels().tunnels.archive(id);
      } catch (error) {
        if (!isTunnelsApiError(error, "TUNNELS_NOT_FOUND")) throw error;
      }
    });
  }

  private async adopt(tunnelId: string, displayName: string): Promise<ApiTunnel> {
    const tunnel = await this.clients.tunnels().tunnels.retrieve(tunnelId);
    if (tunnel.archivedAt) {
      throw new Error(`adoptTunnelId ${tunnelId} is archived (at ${tunnel.archivedAt}) and cannot be used again: remove adoptTunnelId to create a new tunnel`);
    }
    if (tunnel.displayName !== displayName) {
      throw new Error(
        `adoptTunnelId ${tunnelId} is named ${JSON.stringify(tunnel.displayName)}; set displayName to exactly that (tunnels cannot be renamed)`,
      );
    }
    return tunnel;
  }
}

function outputsOf(tunnel: ApiTunnel, adoptTunnelId: string | undefined): TunnelOutputs {
  return {
    tunnelId: tunnel.id,
    domain: tunnel.domain,
    displayName: tunnel.displayName ?? "",
    createdAt: tunnel.createdAt,
    ...(adoptTunnelId ? { adoptTunnelId } : {}),
  };
}

function inputsOf(outs: TunnelOutputs): Props {
  return { displayName: outs.displayName, ...(outs.adoptTunnelId ? { adoptTunnelId: outs.adoptTunnelId } : {}) };
}

export const provider = forEngine(new TunnelProvider(clientsFrom()));
export { configure };
