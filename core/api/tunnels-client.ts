import { ApiSession, type ApiClientOptions, type Paginated } from "./api-session";
import { certificateFingerprint } from "./certificate-fingerprint";
import { createWithoutDuplicates } from "./create-without-duplicates";
import type { ApiTarget } from "./credentials";
import { TunnelsApiError } from "./errors";
import {
  certificateIdInput,
  createCertificateInput,
  createTunnelInput,
  listCertificatesInput,
  listTunnelsInput,
  rotateTokenInput,
  tunnelCertificateSchema,
  tunnelIdInput,
  tunnelSchema,
  tunnelTokenSchema,
  type CreateCertificateInput,
  type CreateTunnelInput,
  type ListCertificatesInput,
  type ListTunnelsInput,
  type RotateTokenInput,
  type Tunnel,
  type TunnelCertificate,
  type TunnelToken,
} from "./objects";

/** Page size of the look-ups after an ambiguous create: one page covers the organization's tunnel limit. */
const LOOKUP_PAGE_SIZE = 100;

export type TunnelsClientOptions = ApiClientOptions;

/**
 * The Tunnels API for one workspace, authenticated with a federation token (or a ready bearer)
 * read from the environment. Never uses ANTHROPIC_API_KEY.
 */
export class TunnelsClient {
  readonly tunnels: TunnelOperations;
  readonly certificates: CertificateOperations;
  readonly #session: ApiSession;

  constructor(options: TunnelsClientOptions = {}) {
    this.#session = new ApiSession("tunnels", options);
    this.tunnels = new TunnelOperations(this.#session);
    this.certificates = new CertificateOperations(this.#session);
  }

  /** What every call of this client spends on retries (RETRY_BUDGET unless options said otherwise). */
  get retryBudget() {
    return this.#session.retryBudget;
  }

  /** The longest one call (a create with its look-ups included) can last: the last attempt starts by the budget's cap. */
  get longestCallMs(): number {
    return this.#session.longestCallMs;
  }

  /** Which API, organization and workspace the calls reach, as the client resolves them. */
  target(): ApiTarget {
    return this.#session.target();
  }

  /** The connection pool all calls share. */
  get dispatcher() {
    return this.#session.dispatcher;
  }

  /** Closes pooled connections; the client is unusable afterwards. */
  close(): Promise<void> {
    return this.#session.close();
  }
}

export class TunnelOperations {
  readonly #session: ApiSession;

  constructor(session: ApiSession) {
    this.#session = session;
  }

  /**
   * Creates a tunnel. Never creates two: an ambiguous failure (timeout, reset, 5xx) is followed
   * by a look-up for a non-archived tunnel with exactly this display name created since the
   * attempt began, which is returned if found.
   */
  async create(input: CreateTunnelInput = {}): Promise<Tunnel> {
    const operation = "tunnels.create";
    const { displayName } = this.#session.check(operation, createTunnelInput, input);
    const body = typeof displayName === "string" ? { display_name: displayName } : {};
    const wanted = displayName ?? null;
    return createWithoutDuplicates(
      {
        description: wanted === null ? "tunnel without a display name" : `tunnel named "${wanted}"`,
        budget: this.#session.retryBudget,
        timeoutMs: this.#session.timeoutMs,
        attempt: () => this.#session.call(operation, tunnelSchema, (sdk) => sdk.beta.tunnels.create(body), { singleAttempt: true }),
        findCreated: (since) => this.#findCreated(wanted, since),
      },
      { clock: this.#session.clock },
    );
  }

  /** Every tunnel of the workspace, newest first, across all pages. */
  list(input: ListTunnelsInput = {}): Paginated<Tunnel> {
    const operation = "tunnels.list";
    return this.#session.paginate(operation, tunnelSchema, (sdk) => {
      const { includeArchived, limit } = this.#session.check(operation, listTunnelsInput, input);
      return sdk.beta.tunnels.list(listQuery(includeArchived, limit));
    });
  }

  /** Archived tunnels are returned too, with `archivedAt` set. */
  async retrieve(tunnelId: string): Promise<Tunnel> {
    const operation = "tunnels.retrieve";
    const id = this.#session.check(operation, tunnelIdInput, tunnelId);
    return this.#session.call(operation, tunnelSchema, (sdk) => sdk.beta.tunnels.retrieve(id));
  }

  /** Irreversible; repeating it returns the same record. */
  async archive(tunnelId: string): Promise<Tunnel> {
    const operation = "tunnels.archive";
    const id = this.#session.check(operation, tunnelIdInput, tunnelId);
    return this.#session.call(operation, tunnelSchema, (sdk) => sdk.beta.tunnels.archive(id));
  }

  /** Audited on every call: reveal when the value is needed, never to refresh state. */
  async revealToken(tunnelId: string): Promise<TunnelToken> {
    const operation = "tunnels.revealToken";
    const id = this.#session.check(operation, tunnelIdInput, tunnelId);
    const token = await this.#session.call(operation, tunnelTokenSchema, (sdk) => sdk.beta.tunnels.revealToken(id));
    this.#session.rememberSecret(token.tunnelToken);
    return token;
  }

  /**
   * Issues a new token value. Retried like a safe call: a repeat after a lost answer rotates once
   * more, and the value returned is still the one in force.
   */
  async rotateToken(tunnelId: string, input: RotateTokenInput = {}): Promise<TunnelToken> {
    const operation = "tunnels.rotateToken";
    const id = this.#session.check(operation, tunnelIdInput, tunnelId);
    const { reason } = this.#session.check(operation, rotateTokenInput, input);
    const body = typeof reason === "string" ? { reason } : {};
    const token = await this.#session.call(operation, tunnelTokenSchema, (sdk) => sdk.beta.tunnels.rotateToken(id, body));
    this.#session.rememberSecret(token.tunnelToken);
    return token;
  }

  async #findCreated(displayName: string | null, since: Date): Promise<Tunnel | undefined> {
    const matches: Tunnel[] = [];
    // Newest first: stop at the first tunnel older than the attempt.
    for await (const tunnel of this.list({ limit: LOOKUP_PAGE_SIZE })) {
      if (Date.parse(tunnel.createdAt) < since.getTime()) break;
      if (tunnel.displayName === displayName) matches.push(tunnel);
    }
    if (matches.length > 1) {
      throw new TunnelsApiError({
        code: "CONFLICT",
        summary: `several tunnels (${matches.map((tunnel) => tunnel.id).join(", ")}) match the ambiguous create`,
        hint: "Something else created tunnels with the same display name at the same time; keep one, archive the others, and use unique display names.",
        operation: "tunnels.create",
      });
    }
    return matches[0];
  }
}

export class CertificateOperations {
  readonly #session: ApiSession;

  constructor(session: ApiSession) {
    this.#session = session;
  }

  /**
   * Registers a CA certificate on a tunnel. Never registers it twice: an ambiguous failure is
   * followed by a look-up for an active certificate with the same fingerprint created since the
   * attempt began.
   */
  async create(tunnelId: string, input: CreateCertificateInput): Promise<TunnelCertificate> {
    const operation = "certificates.create";
    const id = this.#session.check(operation, tunnelIdInput, tunnelId);
    const { caCertificatePem } = this.#session.check(operation, createCertificateInput, input);
    const fingerprint = certificateFingerprint(caCertificatePem);
    const attempt = () =>
      this.#session.call(operation, tunnelCertificateSchema, (sdk) => sdk.beta.tunnels.certificates.create(id, { ca_certificate_pem: caCertificatePem }), {
        singleAttempt: true,
      });
    if (fingerprint === undefined) return attempt(); // no certificate block: the API refuses it, nothing to look up
    return createWithoutDuplicates(
      {
        description: `certificate ${fingerprint} on tunnel ${id}`,
        budget: this.#session.retryBudget,
        timeoutMs: this.#session.timeoutMs,
        attempt,
        findCreated: async (since) => {
          for await (const certificate of this.list(id, { limit: LOOKUP_PAGE_SIZE })) {
            if (certificate.fingerprint === fingerprint && Date.parse(certificate.createdAt) >= since.getTime()) return certificate;
          }
          return undefined;
        },
      },
      { clock: this.#session.clock },
    );
  }

  /** The tunnel's certificates, newest first; archived ones only when asked. */
  list(tunnelId: string, input: ListCertificatesInput = {}): Paginated<TunnelCertificate> {
    const operation = "certificates.list";
    return this.#session.paginate(operation, tunnelCertificateSchema, (sdk) => {
      const id = this.#session.check(operation, tunnelIdInput, tunnelId);
      const { includeArchived, limit } = this.#session.check(operation, listCertificatesInput, input);
      return sdk.beta.tunnels.certificates.list(id, listQuery(includeArchived, limit));
    });
  }

  async retrieve(tunnelId: string, certificateId: string): Promise<TunnelCertificate> {
    const operation = "certificates.retrieve";
    const tunnel = this.#session.check(operation, tunnelIdInput, tunnelId);
    const certificate = this.#session.check(operation, certificateIdInput, certificateId);
    return this.#session.call(operation, tunnelCertificateSchema, (sdk) =>
      sdk.beta.tunnels.certificates.retrieve(certificate, { tunnel_id: tunnel }),
    );
  }

  /** Idempotent; archiving the last certificate is allowed (the tunnel then needs a new one). */
  async archive(tunnelId: string, certificateId: string): Promise<TunnelCertificate> {
    const operation = "certificates.archive";
    const tunnel = this.#session.check(operation, tunnelIdInput, tunnelId);
    const certificate = this.#session.check(operation, certificateIdInput, certificateId);
    return this.#session.call(operation, tunnelCertificateSchema, (sdk) =>
      sdk.beta.tunnels.certificates.archive(certificate, { tunnel_id: tunnel }),
    );
  }
}

function listQuery(includeArchived: boolean | undefined, limit: number | undefined) {
  return { ...(includeArchived !== undefined && { include_archived: includeArchived }), ...(limit !== undefined && { limit }) };
}
