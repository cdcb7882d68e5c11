import type * as pulumi from "@pulumi/pulumi";
import { CREATE_LOOKUP_CLOCK_SLACK_MS } from "../core/api/create-without-duplicates";
import { isTunnelsApiError } from "../core/api/errors";
import { DEFAULT_LONGEST_CALL_MS } from "../core/api/retry-budget";
import type { Tunnel as ApiTunnel } from "../core/api";
import { tunnelSchema, type TunnelOutputs } from "../core/schemas/tunnel";
import { clientsFrom, type ApiClients } from "./kit/clients";
import { systemClock, type Clock } from "./kit/clock";
import { journalFrom, RESOURCE_URN_INPUT, type CreateAttempt, type CreateJournal } from "./kit/create-journal";
import { inContext, ProviderError, ResourceOperationError, withCodes } from "./kit/errors";
import { checkInputs, diffInputs, engineInputs, type Props } from "./kit/inputs";
import { configure, GONE, forEngine } from "./kit/provider-module";

const RESOURCE = "Tunnel";

/**
 * How long after an interrupted create began its tunnel can have been made: the longest call the
 * client says its retry budget allows (an earlier provider process made it, and every provider
 * process builds its client with the defaults), plus the slack the client allows between this
 * clock and the server's. A same-named tunnel made later is someone else's.
 */
export const INTERRUPTED_CREATE_WINDOW_MS = DEFAULT_LONGEST_CALL_MS + CREATE_LOOKUP_CLOCK_SLACK_MS;

/**
 * create = POST /v1/tunnels (or adopt); delete = archive, which is irreversible.
 *
 * Creates are journaled (see CreateJournal) so that a tunnel made by a create the engine never
 * recorded (the CLI was killed) is taken over by the next create of the same resource instead of
 * being left as an orphan beside a second one.
 */
export class TunnelProvider implements pulumi.dynamic.ResourceProvider {
  constructor(
    private readonly clients: ApiClients,
    private readonly journal: CreateJournal = journalFrom(),
    private readonly clock: Clock = systemClock,
  ) {}

  async check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const { [RESOURCE_URN_INPUT]: resourceUrn, ...given } = news;
    const { inputs, failures } = checkInputs(tunnelSchema, given);
    return { inputs: typeof resourceUrn === "string" ? { ...inputs, [RESOURCE_URN_INPUT]: resourceUrn } : inputs, failures };
  }

  async diff(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    await this.settleJournal(id, olds, news);
    return diffInputs(tunnelSchema.inputs.shape, olds, news);
  }

  async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
    const { displayName, adoptTunnelId } = engineInputs(tunnelSchema, "create", inputs);
    const resourceUrn = inputs[RESOURCE_URN_INPUT];
    return inContext(`${RESOURCE} "${displayName}"`, "create", async () => {
      const tunnel = adoptTunnelId
        ? await this.adopt(adoptTunnelId, displayName)
        : typeof resourceUrn === "string"
          ? await this.createJournaled(resourceUrn, displayName)
          : await this.clients.tunnels().tunnels.create({ displayName });
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
      const outs = outputsOf(tunnel, typeof props.adoptTunnelId === "string" ? props.adoptTunnelId : undefined);
      return { id, props: outs, inputs: inputsOf(outs) };
    });
  }

  async update(id: string): Promise<pulumi.dynamic.UpdateResult> {
    // Every input replaces; diff never plans an update.
    throw new ResourceOperationError({
      resource: `${RESOURCE} ${id}`,
      operation: "update",
      code: "UPDATE_NOT_SUPPORTED",
      message: `${RESOURCE} ${id}: internal error: tunnels have no update API`,
    });
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
    const tunnel = await withCodes(this.clients.tunnels().tunnels.retrieve(tunnelId), { TUNNELS_NOT_FOUND: "ADOPT_NOT_FOUND" });
    if (tunnel.archivedAt) {
      const hint = "remove adoptTunnelId to create a new tunnel";
      throw new ProviderError("ADOPT_ARCHIVED", `adoptTunnelId ${tunnelId} is archived (at ${tunnel.archivedAt}) and cannot be used again: ${hint}`, { hint });
    }
    if (tunnel.displayName !== displayName) {
      const hint = "set displayName to exactly that (tunnels cannot be renamed)";
      throw new ProviderError("ADOPT_NAME_MISMATCH", `adoptTunnelId ${tunnelId} is named ${JSON.stringify(tunnel.displayName)}; ${hint}`, { hint });
    }
    return tunnel;
  }

  /**
   * Takes over the tunnel an interrupted create of this resource made, if there is one; otherwise
   * creates one, with the attempt on disk from before the request goes out until the engine has
   * recorded its result (see settleJournal).
   */
  private async createJournaled(resourceUrn: string, displayName: string): Promise<ApiTunnel> {
    const earlier = await this.journal.read(resourceUrn);
    if (earlier?.displayName === displayName) {
      const recovered = await this.recovered(earlier);
      if (recovered) {
        await this.journal.write({ ...earlier, createdId: recovered.id });
        return recovered;
      }
    }
    const preexistingIds = (await this.activeNamed(displayName)).map((tunnel) => tunnel.id);
    const attempt: CreateAttempt = { resourceUrn, displayName, startedAt: this.clock.now().toISOString(), preexistingIds };
    await this.journal.write(attempt);
    const tunnel = await this.clients.tunnels().tunnels.create({ displayName });
    await this.journal.write({ ...attempt, createdId: tunnel.id });
    return tunnel;
  }

  /**
   * The tunnel an earlier, unrecorded attempt made. Taken over only if it is certainly that
   * attempt's and nothing has used it: the id the API returned, or else the one active tunnel with
   * the name that did not exist before the attempt and was made within its window. A tunnel that
   * ever had a certificate belongs to a deployment that recorded it (a tunnel no state names never
   * gets one), so it is never taken. Several candidates are refused rather than guessed between.
   */
  private async recovered(earlier: CreateAttempt): Promise<ApiTunnel | undefined> {
    let candidates: ApiTunnel[];
    if (earlier.createdId !== undefined) {
      const tunnel = await this.retrieveIfExists(earlier.createdId);
      candidates = tunnel && !tunnel.archivedAt && tunnel.displayName === earlier.displayName ? [tunnel] : [];
    } else {
      const latest = Date.parse(earlier.startedAt) + INTERRUPTED_CREATE_WINDOW_MS;
      candidates = (await this.activeNamed(earlier.displayName)).filter(
        (tunnel) => !earlier.preexistingIds.includes(tunnel.id) && Date.parse(tunnel.createdAt) <= latest,
      );
    }
    const unused: ApiTunnel[] = [];
    for (const tunnel of candidates) if (!(await this.everHadCertificate(tunnel.id))) unused.push(tunnel);
    if (unused.length > 1) {
      const hint = "set adoptTunnelId to the one to keep and archive the others, then run up again";
      throw new ProviderError(
        "CREATE_RECOVERY_AMBIGUOUS",
        `an earlier create of this tunnel was interrupted before Pulumi recorded it, and ${unused.map((t) => t.id).join(", ")} (all named ${JSON.stringify(earlier.displayName)}, ` +
          `created since ${earlier.startedAt}, never used) could each be its result: ${hint}`,
        { hint },
      );
    }
    return unused[0];
  }

  /**
   * diff is the first call that shows the provider which tunnel the state recorded for this
   * resource. An attempt that produced it is settled: forgotten, so it is never recovered again
   * (e.g. by the create of a replacement, which would otherwise take over the tunnel it replaces).
   */
  private async settleJournal(id: string, olds: Props, news: Props): Promise<void> {
    const resourceUrn = news[RESOURCE_URN_INPUT];
    if (typeof resourceUrn !== "string") return;
    const attempt = await this.journal.read(resourceUrn);
    if (!attempt) return;
    const produced =
      attempt.createdId === undefined ? attempt.displayName === olds.displayName && !attempt.preexistingIds.includes(id) : attempt.createdId === id;
    if (produced) await this.journal.forget(resourceUrn);
  }

  private async activeNamed(displayName: string): Promise<ApiTunnel[]> {
    const named: ApiTunnel[] = [];
    for await (const tunnel of this.clients.tunnels().tunnels.list({ limit: 100 })) if (tunnel.displayName === displayName && !tunnel.archivedAt) named.push(tunnel);
    return named;
  }

  private async everHadCertificate(tunnelId: string): Promise<boolean> {
    for await (const _certificate of this.clients.tunnels().certificates.list(tunnelId, { includeArchived: true, limit: 1 })) return true;
    return false;
  }

  private async retrieveIfExists(tunnelId: string): Promise<ApiTunnel | undefined> {
    try {
      return await this.clients.tunnels().tunnels.retrieve(tunnelId);
    } catch (error) {
      if (isTunnelsApiError(error, "TUNNELS_NOT_FOUND")) return undefined;
      throw error;
    }
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

export const provider = forEngine(tunnelSchema, new TunnelProvider(clientsFrom()));
export { configure };
