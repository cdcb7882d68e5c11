import { parseGoDuration } from "./go-duration";
import { X509Certificate } from "node:crypto";
import {
  ANTHROPIC_VERSION,
  CONFLICT_MESSAGE_PREFIX,
  FEDERATION_BETA,
  JWT_BEARER_GRANT,
  OAUTH_BETA,
  PRODUCTION_BASE_URL,
  TOKEN_EXCHANGE_PATH,
  TUNNELS_BETA,
} from "../core/contract/tunnels-api";
import { generateCertificateAuthority, issueServerCertificate, type KeyAlgorithm } from "../core/pki";
import { ContainerFsError, type ContainerContext, type RunningTwin, type TwinMain } from "./container";

/**
 * The setup component of the mcp-proxy image (entrypoint `/setup`), as the Compose stack and the
 * chart's hook and CronJob run it:
 *
 *   init --api-url=<url> --output=dir:<path>|k8s-secret:<name> --token-version=<v> [--tunnel-id=<id>] [--cert-duration=2160h]
 *   renew-cert --output=… [--renew-before=<go duration>] [--cert-duration=2160h]
 */

/**
 * What setup keeps in its output: file names under `dir:`, keys of the `k8s-secret:` Secret.
 * The first four are documented; the others are this twin's choice, since the docs only say that
 * setup "reuses the tunnel ID and CA already stored there".
 */
export const SETUP_OUTPUT_KEYS = {
  tunnelToken: "tunnel-token",
  tunnelDomain: "tunnel-domain",
  serverCertificate: "tls.crt",
  serverKey: "tls.key",
  tunnelId: "tunnel-id",
  tokenVersion: "token-version",
  caCertificate: "ca.crt",
  caKey: "ca.key",
  /** The `tcrt_` id the CA was registered as; absent while the stored CA is not yet registered. */
  caCertificateId: "ca-certificate-id",
} as const;

type OutputField = keyof typeof SETUP_OUTPUT_KEYS;
type Stored = Partial<Record<OutputField, string>>;

// Not world-readable: the docs read the token with `sudo cat`, and the keys are secrets.
const SECRET_FIELDS: ReadonlySet<OutputField> = new Set(["tunnelToken", "serverKey", "caKey"]);
const SECRET_FILE_MODE = 0o600;
const PLAIN_FILE_MODE = 0o644;

const CA_KEY_ALGORITHM: KeyAlgorithm = "ECDSA_P256";
const CA_VALIDITY_DAYS = 5 * 365 + 1;
const CA_COMMON_NAME = "mcp-tunnel setup CA";
const DEFAULT_CERT_DURATION = "2160h";
const DEFAULT_TOKEN_VERSION = "1";
const MS_PER_DAY = 24 * 60 * 60 * 1000;

export type SetupErrorCode =
  /** Unknown subcommand or flag, or a malformed flag value. */
  | "USAGE"
  /** Neither or both of ANTHROPIC_IDENTITY_TOKEN / ANTHROPIC_IDENTITY_TOKEN_FILE, or the file unreadable. */
  | "IDENTITY_TOKEN"
  | "MISSING_ENV"
  /** `--token-version` lower than the stored one, or not a decimal string. */
  | "TOKEN_VERSION"
  /** renew-cert with no CA stored in the output. */
  | "NOT_INITIALIZED"
  /** The tunnel already has two active CAs, so the new CA cannot be registered. */
  | "CERTIFICATE_LIMIT"
  | "TUNNEL_ARCHIVED"
  | "OUTPUT"
  | "API";

export class SetupError extends Error {
  override readonly name = "SetupError";
  constructor(
    readonly code: SetupErrorCode,
    message: string,
    readonly hint?: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface SetupOptions {
  /**
   * The server certificate's key. The real setup makes RSA-4096 (the default); tests that do not
   * look at the key may pass `ECDSA_P256`, since RSA-4096 generation takes up to a second on a
   * loaded machine.
   */
  serverKeyAlgorithm?: KeyAlgorithm;
  now?: () => Date;
}

export function createSetup(options: SetupOptions = {}): TwinMain {
  const resolved = { serverKeyAlgorithm: options.serverKeyAlgorithm ?? "RSA_4096", now: options.now ?? (() => new Date()) };
  return async (context): Promise<RunningTwin> => {
    const exited = runToExit(context, resolved);
    return { exited, stop: async () => void (await exited) };
  };
}

export const runSetup: TwinMain = createSetup();

type Resolved = Required<SetupOptions>;

async function runToExit(context: ContainerContext, options: Resolved): Promise<number> {
  try {
    const [command, ...rest] = context.argv;
    if (command === "init") await init(context, parseFlags(rest, INIT_FLAGS), options);
    else if (command === "renew-cert") await renewCert(context, parseFlags(rest, RENEW_FLAGS), options);
    else throw new SetupError("USAGE", command === undefined ? "no subcommand given" : `unknown subcommand "${command}"`, "use init or renew-cert");
    return 0;
  } catch (error) {
    context.log(`error: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof SetupError && error.hint) context.log(`hint: ${error.hint}`);
    return 1;
  }
}

async function init(context: ContainerContext, flags: Flags, options: Resolved): Promise<void> {
  const output = openOutput(context, requiredFlag(flags, "output"));
  const tokenVersion = decimalVersion(flags.get("token-version") ?? DEFAULT_TOKEN_VERSION, "--token-version");
  const requestedTunnelId = nonEmpty(flags.get("tunnel-id")) ?? nonEmpty(context.env["TUNNEL_ID"]);
  const certDays = durationMs(flags.get("cert-duration") ?? DEFAULT_CERT_DURATION, "--cert-duration") / MS_PER_DAY;
  const federationRuleId = requiredEnv(context, "ANTHROPIC_FEDERATION_RULE_ID");
  const organizationId = requiredEnv(context, "ANTHROPIC_ORGANIZATION_ID");
  const workspaceId = nonEmpty(context.env["ANTHROPIC_WORKSPACE_ID"]);
  const identityToken = readIdentityToken(context);
  const apiUrl = flags.get("api-url") ?? nonEmpty(context.env["API_URL"]) ?? PRODUCTION_BASE_URL;

  const stored = output.read();
  const switchingTunnel = requestedTunnelId !== undefined && stored.tunnelId !== undefined && requestedTunnelId !== stored.tunnelId;
  const fresh = stored.tunnelId === undefined || switchingTunnel;
  const tokenAction = fresh || stored.tunnelToken === undefined ? "reveal" : compareTokenVersions(stored.tokenVersion, tokenVersion);
  if (tokenAction === "keep") context.log(`token version ${tokenVersion} unchanged; not rotating the tunnel token`);

  // The CA is made and written before any API call, so an output setup cannot write (the
  // undocumented `chown 65532:65532 data` step skipped) fails before a tunnel exists.
  let ca = stored.caCertificate && stored.caKey ? { certificatePem: stored.caCertificate, privateKeyPem: stored.caKey } : undefined;
  let caIsNew = false;
  if (fresh || !ca) {
    if (switchingTunnel) context.log(`TUNNEL_ID changed from ${stored.tunnelId} to ${requestedTunnelId}; generating a new CA`);
    const generated = await generateCertificateAuthority({ commonName: CA_COMMON_NAME, keyAlgorithm: CA_KEY_ALGORITHM, validityDays: CA_VALIDITY_DAYS, now: options.now() });
    ca = { certificatePem: generated.certificatePem, privateKeyPem: generated.privateKeyPem };
    caIsNew = true;
    output.write({ caKey: ca.privateKeyPem, caCertificate: ca.certificatePem, caCertificateId: "" });
    context.log(`generated CA ${generated.fingerprint}`);
  }

  const api = new TunnelsApi(context.outside.rewriteUrl(apiUrl));
  await api.exchange({ assertion: identityToken, federationRuleId, organizationId, workspaceId });

  let tunnelId: string;
  let domain: string;
  if (!fresh && stored.tunnelId && stored.tunnelDomain) {
    tunnelId = stored.tunnelId;
    domain = stored.tunnelDomain;
    context.log(`reusing stored tunnel ${tunnelId}`);
  } else if (requestedTunnelId ?? stored.tunnelId) {
    const tunnel = await api.tunnel((requestedTunnelId ?? stored.tunnelId)!);
    if (tunnel.archived_at !== null) {
      throw new SetupError("TUNNEL_ARCHIVED", `tunnel ${tunnel.id} is archived`, "an archived tunnel cannot be attached; unset TUNNEL_ID and empty the output to create a new one");
    }
    tunnelId = tunnel.id;
    domain = tunnel.domain;
    context.log(`attaching to tunnel ${tunnelId}`);
  } else {
    const tunnel = await api.createTunnel();
    tunnelId = tunnel.id;
    domain = tunnel.domain;
    context.log(`created tunnel ${tunnelId}`);
  }
  if (tunnelId !== stored.tunnelId || domain !== stored.tunnelDomain) output.write({ tunnelId, tunnelDomain: domain });

  if (caIsNew || !stored.caCertificateId) {
    const certificate = await api.registerCertificate(tunnelId, ca.certificatePem);
    output.write({ caCertificateId: certificate.id });
    context.log(`registered CA as ${certificate.id}`);
  }

  if (tokenAction === "reveal") {
    const token = await api.revealToken(tunnelId);
    output.write({ tunnelToken: token.tunnel_token, tokenVersion });
    context.log(`stored tunnel token ${token.id} (version ${tokenVersion})`);
  } else if (tokenAction === "rotate") {
    const token = await api.rotateToken(tunnelId, `setup init --token-version=${tokenVersion} (was ${stored.tokenVersion})`);
    output.write({ tunnelToken: token.tunnel_token, tokenVersion });
    context.log(`rotated tunnel token to ${token.id} (version ${stored.tokenVersion} -> ${tokenVersion})`);
  }

  if (caIsNew || !stored.serverCertificate || !stored.serverKey || domain !== stored.tunnelDomain) {
    await issueInto(output, context, ca, domain, certDays, options);
  } else {
    context.log("keeping the stored server certificate (renew-cert renews it)");
  }
  context.log(`tunnel ${tunnelId} ready at ${domain}`);
}

type TokenAction = "reveal" | "rotate" | "keep";

function compareTokenVersions(storedVersion: string | undefined, requested: string): TokenAction {
  if (storedVersion === undefined) return "reveal";
  const before = BigInt(decimalVersion(storedVersion, "the stored token version"));
  const after = BigInt(requested);
  if (after === before) return "keep";
  if (after > before) return "rotate";
  throw new SetupError(
    "TOKEN_VERSION",
    `--token-version=${requested} is lower than the stored token version ${storedVersion}`,
    "token versions only increase; pass a version above the stored one to rotate",
  );
}

async function renewCert(context: ContainerContext, flags: Flags, options: Resolved): Promise<void> {
  const output = openOutput(context, requiredFlag(flags, "output"));
  const renewBefore = flags.has("renew-before") ? durationMs(flags.get("renew-before")!, "--renew-before") : undefined;
  const certDays = durationMs(flags.get("cert-duration") ?? DEFAULT_CERT_DURATION, "--cert-duration") / MS_PER_DAY;
  const stored = output.read();
  if (!stored.caCertificate || !stored.caKey || !stored.tunnelDomain) {
    throw new SetupError("NOT_INITIALIZED", `no CA stored in ${output.description}`, "run setup init with this output first");
  }
  if (renewBefore !== undefined && stored.serverCertificate) {
    const notAfter = Date.parse(new X509Certificate(stored.serverCertificate).validTo);
    if (notAfter - options.now().getTime() > renewBefore) {
      context.log(`server certificate valid until ${new Date(notAfter).toISOString()}, outside the renewal window; nothing to do`);
      return;
    }
  }
  await issueInto(output, context, { certificatePem: stored.caCertificate, privateKeyPem: stored.caKey }, stored.tunnelDomain, certDays, options);
}

async function issueInto(
  output: SetupOutput,
  context: ContainerContext,
  ca: { certificatePem: string; privateKeyPem: string },
  domain: string,
  validityDays: number,
  options: Resolved,
): Promise<void> {
  const issued = await issueServerCertificate({
    caCertificatePem: ca.certificatePem,
    caPrivateKeyPem: ca.privateKeyPem,
    domain,
    keyAlgorithm: options.serverKeyAlgorithm,
    validityDays,
    now: options.now(),
  });
  // Key before certificate: the proxy reloads when the certificate file changes.
  output.write({ serverKey: issued.privateKeyPem, serverCertificate: issued.certificatePem });
  context.log(`issued server certificate for *.${domain}, valid until ${issued.notAfter.toISOString()}`);
}

interface SetupOutput {
  readonly description: string;
  /** Empty values count as absent, which is how a field is cleared in a directory with no unlink. */
  read(): Stored;
  /** Writes the fields in the given order. */
  write(fields: Stored): void;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function openOutput(context: ContainerContext, spec: string): SetupOutput {
  const separator = spec.indexOf(":");
  const kind = separator < 0 ? spec : spec.slice(0, separator);
  const target = separator < 0 ? "" : spec.slice(separator + 1);
  if (kind === "dir" && target.startsWith("/")) return directoryOutput(context, target.replace(/\/+$/, "") || "/");
  if (kind === "k8s-secret" && DNS_SUBDOMAIN.test(target) && target.length <= 253) return secretOutput(context, target);
  throw new SetupError("USAGE", `invalid --output "${spec}"`, "use dir:<absolute path> or k8s-secret:<name>");
}

const fields = Object.keys(SETUP_OUTPUT_KEYS) as OutputField[];

function directoryOutput(context: ContainerContext, dir: string): SetupOutput {
  const pathOf = (field: OutputField) => `${dir}/${SETUP_OUTPUT_KEYS[field]}`;
  return {
    description: `dir:${dir}`,
    read() {
      const stored: Stored = {};
      for (const field of fields) {
        try {
          const value = context.fs.readFile(pathOf(field)).toString("utf8").trim();
          if (value) stored[field] = value;
        } catch (error) {
          if (!(error instanceof ContainerFsError && error.code === "ENOENT")) throw error;
        }
      }
      return stored;
    },
    write(update) {
      for (const [field, value] of Object.entries(update) as [OutputField, string][]) {
        context.fs.writeFile(pathOf(field), value, SECRET_FIELDS.has(field) ? SECRET_FILE_MODE : PLAIN_FILE_MODE);
      }
    },
  };
}

function secretOutput(context: ContainerContext, name: string): SetupOutput {
  const kubernetes = context.kubernetes;
  if (!kubernetes) throw new SetupError("OUTPUT", `--output=k8s-secret:${name} needs the Kubernetes API`, "run in a pod whose service account may write Secrets, or use dir:");
  return {
    description: `k8s-secret:${name}`,
    read() {
      const data = kubernetes.readSecret(name) ?? {};
      const stored: Stored = {};
      for (const field of fields) {
        const value = data[SETUP_OUTPUT_KEYS[field]]?.trim();
        if (value) stored[field] = value;
      }
      return stored;
    },
    write(update) {
      const data = { ...(kubernetes.readSecret(name) ?? {}) };
      for (const [field, value] of Object.entries(update) as [OutputField, string][]) data[SETUP_OUTPUT_KEYS[field]] = value;
      kubernetes.writeSecret(name, data);
    },
  };
}

function readIdentityToken(context: ContainerContext): string {
  const inline = nonEmpty(context.env["ANTHROPIC_IDENTITY_TOKEN"]);
  const file = nonEmpty(context.env["ANTHROPIC_IDENTITY_TOKEN_FILE"]);
  if (inline !== undefined && file !== undefined) {
    throw new SetupError("IDENTITY_TOKEN", "both ANTHROPIC_IDENTITY_TOKEN and ANTHROPIC_IDENTITY_TOKEN_FILE are set", "set exactly one of them");
  }
  if (inline !== undefined) return inline;
  if (file === undefined) {
    throw new SetupError("IDENTITY_TOKEN", "neither ANTHROPIC_IDENTITY_TOKEN nor ANTHROPIC_IDENTITY_TOKEN_FILE is set", "set exactly one of them to a fresh identity token (JWT) or its path");
  }
  const token = context.fs.readFile(file).toString("utf8").trim();
  if (!token) throw new SetupError("IDENTITY_TOKEN", `${file} is empty`, "mount a file holding the identity token (JWT)");
  return token;
}

function requiredEnv(context: ContainerContext, name: string): string {
  const value = nonEmpty(context.env[name]);
  if (value === undefined) throw new SetupError("MISSING_ENV", `${name} is not set`);
  return value;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value.trim() === "" ? undefined : value.trim());

function decimalVersion(value: string, what: string): string {
  if (!/^[0-9]+$/.test(value)) throw new SetupError("TOKEN_VERSION", `${what} must be a decimal string, got "${value}"`, "use 1, 2, 3, …");
  return value;
}

type Flags = Map<string, string>;

const INIT_FLAGS = new Set(["api-url", "output", "token-version", "tunnel-id", "cert-duration"]);
const RENEW_FLAGS = new Set(["output", "renew-before", "cert-duration"]);

/** Go's flag syntax: `-name=value`, `--name=value`, `-name value`; every flag here takes a value. */
function parseFlags(args: string[], known: ReadonlySet<string>): Flags {
  const flags: Flags = new Map();
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const match = /^--?([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new SetupError("USAGE", `unexpected argument "${arg}"`);
    const name = match[1]!;
    if (!known.has(name)) throw new SetupError("USAGE", `flag provided but not defined: -${name}`);
    let value = match[2];
    if (value === undefined) {
      value = args[++index];
      if (value === undefined) throw new SetupError("USAGE", `flag needs an argument: -${name}`);
    }
    flags.set(name, value);
  }
  return flags;
}

function requiredFlag(flags: Flags, name: string): string {
  const value = flags.get(name);
  if (value === undefined || value === "") throw new SetupError("USAGE", `--${name} is required`);
  return value;
}

/** A Go duration (`720h`, `1h30m`); Go has no day unit, so `30d` is refused as Go refuses it. */
export function durationMs(value: string, what: string): number {
  try {
    return parseGoDuration(value);
  } catch {
    throw new SetupError("USAGE", `invalid value "${value}" for ${what}: not a duration`, "use a Go duration such as 720h");
  }
}

// The setup binary's own client: a twin that shared the product's client would hide the
// product's bugs behind identical ones.

interface TunnelObject {
  id: string;
  domain: string;
  archived_at: string | null;
}

class TunnelsApi {
  private bearer = "";
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /** No service_account_id: the rule names its target. */
  async exchange(input: { assertion: string; federationRuleId: string; organizationId: string; workspaceId: string | undefined }): Promise<void> {
    const body = {
      grant_type: JWT_BEARER_GRANT,
      assertion: input.assertion,
      federation_rule_id: input.federationRuleId,
      organization_id: input.organizationId,
      ...(input.workspaceId ? { workspace_id: input.workspaceId } : {}),
    };
    const response = await this.send("POST", TOKEN_EXCHANGE_PATH, body, { "anthropic-beta": `${OAUTH_BETA},${FEDERATION_BETA}` });
    this.bearer = (response as { access_token: string }).access_token;
  }

  tunnel(id: string): Promise<TunnelObject> {
    return this.call("GET", `/v1/tunnels/${encodeURIComponent(id)}`) as Promise<TunnelObject>;
  }

  createTunnel(): Promise<TunnelObject> {
    return this.call("POST", "/v1/tunnels", {}) as Promise<TunnelObject>;
  }

  async registerCertificate(tunnelId: string, caCertificatePem: string): Promise<{ id: string }> {
    try {
      return (await this.call("POST", `/v1/tunnels/${tunnelId}/certificates`, { ca_certificate_pem: caCertificatePem })) as { id: string };
    } catch (error) {
      if (error instanceof SetupError && error.status === 409 && error.message.includes(CONFLICT_MESSAGE_PREFIX.certificateLimit)) {
        throw new SetupError(
          "CERTIFICATE_LIMIT",
          `registering the CA on tunnel ${tunnelId} failed: the tunnel already has two active CA certificates (${error.message})`,
          "revoke (archive) one of the tunnel's active CAs, then run setup again",
          409,
        );
      }
      throw error;
    }
  }

  revealToken(tunnelId: string): Promise<{ id: string; tunnel_token: string }> {
    return this.call("POST", `/v1/tunnels/${tunnelId}/reveal_token`) as Promise<{ id: string; tunnel_token: string }>;
  }

  rotateToken(tunnelId: string, reason: string): Promise<{ id: string; tunnel_token: string }> {
    return this.call("POST", `/v1/tunnels/${tunnelId}/rotate_token`, { reason }) as Promise<{ id: string; tunnel_token: string }>;
  }

  private call(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.send(method, path, body, {
      authorization: `Bearer ${this.bearer}`,
      "anthropic-version": ANTHROPIC_VERSION,
      "anthropic-beta": TUNNELS_BETA,
    });
  }

  private async send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new SetupError("API", `${method} ${path}: ${(error as Error).message}`, "check that the API URL is reachable from the container");
    }
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (response.ok) return parsed;
    const apiError = (parsed["error"] ?? {}) as { type?: string; message?: string };
    const requestId = response.headers.get("request-id");
    throw new SetupError(
      "API",
      `${method} ${path}: ${response.status} ${apiError.type ?? "error"}: ${apiError.message ?? "no message"}${requestId ? ` (request ${requestId})` : ""}`,
      HINT_BY_STATUS[response.status],
      response.status,
    );
  }
}

const HINT_BY_STATUS: Record<number, string> = {
  401: "the identity token's subject and audience must match the federation rule byte for byte, and the token must be fresh",
  403: "the rule needs scope workspace:manage_tunnels, and its service account must be a member of ANTHROPIC_WORKSPACE_ID",
  404: "the tunnel is not in the token's workspace; set ANTHROPIC_WORKSPACE_ID to the tunnel's workspace",
};
