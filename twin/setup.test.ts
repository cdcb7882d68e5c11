import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PRODUCTION_BASE_URL } from "../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../emulator/index";
import { checkServerCertificate, generateCertificateAuthority } from "../core/pki";
import { TestEmulator, type AuditEntry } from "../test/harness/emulator";
import { ContainerFs, NetworkNamespace, type ContainerContext, type Mount, type TwinMain } from "./container";
import { createSetup, runSetup, SETUP_OUTPUT_KEYS } from "./setup";

const SETUP_USER = { uid: 65532, gid: 65532 };
const DAY_MS = 24 * 60 * 60 * 1000;
// Every test but the one that looks at the key: RSA-4096 generation is slow on a loaded machine.
const fastSetup = createSetup({ serverKeyAlgorithm: "ECDSA_P256" });

const emulator = TestEmulator.forFile({ resetBeforeEach: true });
let scratch: string;

beforeEach(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "setup-twin-"));
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** `mkdir -p mcp-tunnel/data`, optionally followed by the documented `sudo chown 65532:65532 data`. */
function dataDir(options: { chowned: boolean }): string {
  const dir = path.join(scratch, `data-${Math.random().toString(36).slice(2)}`);
  fs.mkdirSync(dir, { mode: 0o755 });
  if (options.chowned) fs.chownSync(dir, SETUP_USER.uid, SETUP_USER.gid);
  return dir;
}

async function identityToken(subject = "system:serviceaccount:mcp-tunnel:compose"): Promise<string> {
  return (await emulator.control<{ id_token: string }>("POST", "/_emulator/oidc/token", { sub: subject, aud: "api.anthropic.com" })).id_token;
}

/**
 * The env the documented Compose setup service passes through, with a freshly minted identity
 * token. The fixture's rule is enabled for several workspaces, so the exchange needs the workspace.
 */
async function composeEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return {
    ANTHROPIC_FEDERATION_RULE_ID: EMULATOR_FIXTURE.tunnelsRuleId,
    ANTHROPIC_ORGANIZATION_ID: EMULATOR_FIXTURE.organizationId,
    ANTHROPIC_WORKSPACE_ID: EMULATOR_FIXTURE.defaultWorkspaceId,
    ANTHROPIC_IDENTITY_TOKEN: await identityToken(),
    ...extra,
  };
}

const initArgs = (tokenVersion = "1") => ["init", `--api-url=${PRODUCTION_BASE_URL}`, "--output=dir:/data", `--token-version=${tokenVersion}`];

/** `docker compose run --rm setup …`: the data dir at /data (rw), as UID 65532. */
async function runCompose(main: TwinMain, data: string, argv: string[], env: Record<string, string>, extraMounts: Mount[] = []) {
  const log: string[] = [];
  const context: ContainerContext = {
    argv,
    env,
    fs: new ContainerFs([{ target: "/data", source: data, readOnly: false }, ...extraMounts], SETUP_USER),
    net: new NetworkNamespace("127.0.0.1"),
    outside: {
      edgeUrl: "ws://127.0.0.1:9/unused",
      rewriteUrl: (url) => {
        if (url.replace(/\/$/, "") === PRODUCTION_BASE_URL) return emulator.baseUrl;
        throw new Error(`setup dialled ${url}, which is not the API`);
      },
    },
    log: (line) => log.push(line),
  };
  const code = await (await main(context)).exited;
  return { code, log, text: log.join("\n") };
}

const read = (data: string, key: keyof typeof SETUP_OUTPUT_KEYS) => fs.readFileSync(path.join(data, SETUP_OUTPUT_KEYS[key]), "utf8");
const actions = async (action: string, tunnelId?: string): Promise<AuditEntry[]> =>
  (await emulator.audit()).filter((entry) => entry.action === action && (tunnelId === undefined || entry.tunnel_id === tunnelId));
const connect = (token: string) => emulator.control<{ ok: boolean; reason?: string }>("POST", "/_emulator/connect", { tunnel_token: token });

describe("setup init into a Compose data directory", () => {
  it("creates one tunnel, registers one CA and writes token, domain, certificate and key owned by UID 65532", async () => {
    const data = dataDir({ chowned: true });
    const result = await runCompose(runSetup, data, initArgs(), await composeEnv());
    expect(result.code, result.text).toBe(0);

    const tunnelId = read(data, "tunnelId");
    const [tunnel] = await emulator.tunnels();
    expect(await actions("tunnel.create")).toHaveLength(1);
    expect(tunnel?.id).toBe(tunnelId);
    expect(await emulator.activeCertificates(tunnelId)).toHaveLength(1);
    expect(await connect(read(data, "tunnelToken"))).toMatchObject({ ok: true });

    const domain = read(data, "tunnelDomain");
    expect(domain).toBe((await emulator.api<{ domain: string }>("GET", `/v1/tunnels/${tunnelId}`)).domain);
    for (const key of ["tunnelToken", "tunnelDomain", "serverCertificate", "serverKey"] as const) {
      const stats = fs.statSync(path.join(data, SETUP_OUTPUT_KEYS[key]));
      expect({ key, uid: stats.uid, gid: stats.gid }).toEqual({ key, uid: 65532, gid: 65532 });
    }
    expect(fs.statSync(path.join(data, "tls.key")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(data, "tunnel-token")).mode & 0o077).toBe(0);

    const ca = new X509Certificate(read(data, "caCertificate"));
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect((Date.parse(ca.validTo) - Date.now()) / DAY_MS).toBeGreaterThan(5 * 365 - 1);
    const server = new X509Certificate(read(data, "serverCertificate"));
    expect(server.publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);
    expect(Math.round((Date.parse(server.validTo) - Date.now()) / DAY_MS)).toBe(90);
    expect(server.subjectAltName).toContain(`DNS:*.${domain}`);
    const check = await checkServerCertificate({ certificate: server.toString(), trustedCaPems: [ca.toString()], hostname: `echo.${domain}`, now: new Date() });
    expect(check).toMatchObject({ ok: true });
  });

  it("fails with permission denied when data/ is not chowned to 65532, before any tunnel exists, and succeeds once it is", async () => {
    const data = dataDir({ chowned: false });
    const refused = await runCompose(fastSetup, data, initArgs(), await composeEnv());
    expect(refused.code).not.toBe(0);
    expect(refused.text).toMatch(/open \/data\/[a-z.-]+: permission denied/);
    expect(await emulator.tunnels()).toEqual([]);

    fs.chownSync(data, SETUP_USER.uid, SETUP_USER.gid);
    const accepted = await runCompose(fastSetup, data, initArgs(), await composeEnv());
    expect(accepted.code, accepted.text).toBe(0);
    expect(await emulator.tunnels()).toHaveLength(1);
  });

  it("run again with the same token version reuses the tunnel, CA, token and certificate and says it does not rotate", async () => {
    const data = dataDir({ chowned: true });
    expect((await runCompose(fastSetup, data, initArgs("1"), await composeEnv())).code).toBe(0);
    const before = Object.fromEntries(fs.readdirSync(data).map((name) => [name, fs.readFileSync(path.join(data, name), "utf8")]));

    const again = await runCompose(fastSetup, data, initArgs("1"), await composeEnv());
    expect(again.code, again.text).toBe(0);
    expect(again.text).toContain("token version 1 unchanged; not rotating");
    const after = Object.fromEntries(fs.readdirSync(data).map((name) => [name, fs.readFileSync(path.join(data, name), "utf8")]));
    expect(after).toEqual(before);
    expect(await actions("tunnel.create")).toHaveLength(1);
    expect(await actions("certificate.create")).toHaveLength(1);
    expect(await actions("token.rotate")).toHaveLength(0);
  });

  it("a higher --token-version rotates the token once, keeps the tunnel and CA, and the old token is refused", async () => {
    const data = dataDir({ chowned: true });
    await runCompose(fastSetup, data, initArgs("1"), await composeEnv());
    const [oldToken, ca, tunnelId] = [read(data, "tunnelToken"), read(data, "caCertificate"), read(data, "tunnelId")];

    const rotated = await runCompose(fastSetup, data, initArgs("2"), await composeEnv());
    expect(rotated.code, rotated.text).toBe(0);
    expect(await actions("token.rotate", tunnelId)).toHaveLength(1);
    expect(read(data, "tunnelToken")).not.toBe(oldToken);
    expect(read(data, "tokenVersion")).toBe("2");
    expect(await connect(oldToken)).toEqual({ ok: false, reason: "rotated" });
    expect(await connect(read(data, "tunnelToken"))).toMatchObject({ ok: true, tunnel_id: tunnelId });
    expect(read(data, "caCertificate")).toBe(ca);
    expect(await actions("tunnel.create")).toHaveLength(1);
  });

  it("a lower --token-version than the stored one is refused without rotating", async () => {
    const data = dataDir({ chowned: true });
    await runCompose(fastSetup, data, initArgs("3"), await composeEnv());
    const lower = await runCompose(fastSetup, data, initArgs("2"), await composeEnv());
    expect(lower.code).not.toBe(0);
    expect(lower.text).toContain("--token-version=2 is lower than the stored token version 3");
    expect(await actions("token.rotate")).toHaveLength(0);
  });

  it.each([
    ["both are set", { ANTHROPIC_IDENTITY_TOKEN_FILE: "/var/run/secrets/token" }, "both ANTHROPIC_IDENTITY_TOKEN and ANTHROPIC_IDENTITY_TOKEN_FILE are set"],
    ["neither is set", { ANTHROPIC_IDENTITY_TOKEN: "" }, "neither ANTHROPIC_IDENTITY_TOKEN nor ANTHROPIC_IDENTITY_TOKEN_FILE is set"],
  ])("refuses to start when %s of the identity token variables, making no API call", async (_case, override, message) => {
    await emulator.control("DELETE", "/_emulator/requests");
    const result = await runCompose(fastSetup, dataDir({ chowned: true }), initArgs(), { ...(await composeEnv()), ...override });
    expect(result.code).not.toBe(0);
    expect(result.text).toContain(message);
    expect(await emulator.requests()).toEqual([]);
  });

  it("reads ANTHROPIC_IDENTITY_TOKEN_FILE from a mount the user added", async () => {
    const tokenDir = path.join(scratch, "token");
    fs.mkdirSync(tokenDir);
    fs.writeFileSync(path.join(tokenDir, "token"), `${await identityToken()}\n`, { mode: 0o644 });
    const env = await composeEnv({ ANTHROPIC_IDENTITY_TOKEN_FILE: "/var/run/secrets/anthropic/token" });
    delete env["ANTHROPIC_IDENTITY_TOKEN"];
    const result = await runCompose(fastSetup, dataDir({ chowned: true }), initArgs(), env, [{ target: "/var/run/secrets/anthropic", source: tokenDir, readOnly: true }]);
    expect(result.code, result.text).toBe(0);
    expect(await emulator.tunnels()).toHaveLength(1);
  });

  it("without ANTHROPIC_WORKSPACE_ID, a rule enabled for several workspaces denies the exchange with 401 and nothing is created", async () => {
    const env = await composeEnv();
    delete env["ANTHROPIC_WORKSPACE_ID"];
    const result = await runCompose(fastSetup, dataDir({ chowned: true }), initArgs(), env);
    expect(result.code).not.toBe(0);
    expect(result.text).toContain("POST /v1/oauth/token: 401 authentication_error: Authentication failed");
    expect((await actions("oauth.denied")).map((entry) => entry.detail["reason"])).toEqual(["workspace_required"]);
    expect(await emulator.tunnels()).toEqual([]);
  });

  it("creates the tunnel in ANTHROPIC_WORKSPACE_ID's workspace", async () => {
    const data = dataDir({ chowned: true });
    const result = await runCompose(fastSetup, data, initArgs(), await composeEnv({ ANTHROPIC_WORKSPACE_ID: "wrkspc_platform" }));
    expect(result.code, result.text).toBe(0);
    expect((await emulator.tunnels()).map((t) => t.id)).toEqual([]);
    expect((await emulator.api<{ data: { id: string }[] }>("GET", "/v1/tunnels", undefined, "wrkspc_platform")).data.map((t) => t.id)).toEqual([read(data, "tunnelId")]);
  });
});

describe("setup init attaching with TUNNEL_ID", () => {
  async function tunnelWithCas(count: number): Promise<string> {
    const { id } = await emulator.api<{ id: string }>("POST", "/v1/tunnels", {});
    for (let index = 0; index < count; index++) {
      const ca = await generateCertificateAuthority({ commonName: `existing ${index}`, keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
      await emulator.api("POST", `/v1/tunnels/${id}/certificates`, { ca_certificate_pem: ca.certificatePem });
    }
    return id;
  }

  it("attaches to the tunnel without creating one, registering its own CA next to an existing one", async () => {
    const tunnelId = await tunnelWithCas(1);
    const data = dataDir({ chowned: true });
    const result = await runCompose(fastSetup, data, initArgs(), await composeEnv({ TUNNEL_ID: tunnelId }));
    expect(result.code, result.text).toBe(0);
    expect(read(data, "tunnelId")).toBe(tunnelId);
    expect(await actions("tunnel.create")).toHaveLength(1);
    expect(await emulator.activeCertificates(tunnelId)).toHaveLength(2);
  });

  it("fails naming the two-certificate limit when the tunnel already has two active CAs", async () => {
    const tunnelId = await tunnelWithCas(2);
    const result = await runCompose(fastSetup, dataDir({ chowned: true }), initArgs(), await composeEnv({ TUNNEL_ID: tunnelId }));
    expect(result.code).not.toBe(0);
    expect(result.text).toContain(`registering the CA on tunnel ${tunnelId} failed: the tunnel already has two active CA certificates`);
    expect(result.text).toContain("409");
    expect(result.text).toContain("revoke (archive) one of the tunnel's active CAs");
  });

  it("a changed TUNNEL_ID makes a new CA, registers it on the new tunnel and takes the new tunnel's token", async () => {
    const data = dataDir({ chowned: true });
    await runCompose(fastSetup, data, initArgs(), await composeEnv());
    const [first, firstCa] = [read(data, "tunnelId"), read(data, "caCertificate")];
    const second = await tunnelWithCas(0);

    const result = await runCompose(fastSetup, data, initArgs(), await composeEnv({ TUNNEL_ID: second }));
    expect(result.code, result.text).toBe(0);
    expect(read(data, "tunnelId")).toBe(second);
    expect(read(data, "caCertificate")).not.toBe(firstCa);
    expect(await emulator.activeCertificates(second)).toHaveLength(1);
    expect(await emulator.activeCertificates(first)).toHaveLength(1);
    expect(await connect(read(data, "tunnelToken"))).toMatchObject({ ok: true, tunnel_id: second });
  });
});

describe("setup renew-cert", () => {
  it("re-signs the server certificate with the stored CA and makes no API call", async () => {
    const data = dataDir({ chowned: true });
    await runCompose(fastSetup, data, initArgs(), await composeEnv());
    const [ca, oldCert, domain] = [read(data, "caCertificate"), read(data, "serverCertificate"), read(data, "tunnelDomain")];
    await emulator.control("DELETE", "/_emulator/requests");

    const result = await runCompose(fastSetup, data, ["renew-cert", "--output=dir:/data"], {});
    expect(result.code, result.text).toBe(0);
    expect(await emulator.requests()).toEqual([]);
    expect(read(data, "caCertificate")).toBe(ca);
    expect(read(data, "serverCertificate")).not.toBe(oldCert);
    const check = await checkServerCertificate({ certificate: read(data, "serverCertificate"), trustedCaPems: [ca], hostname: `echo.${domain}`, now: new Date() });
    expect(check).toMatchObject({ ok: true, caFingerprint: new X509Certificate(ca).fingerprint256.replaceAll(":", "").toLowerCase() });
  });

  it("with --renew-before does nothing while the certificate is outside the window and renews inside it", async () => {
    let now = new Date();
    const setup = createSetup({ serverKeyAlgorithm: "ECDSA_P256", now: () => now });
    const data = dataDir({ chowned: true });
    await runCompose(setup, data, initArgs(), await composeEnv());
    const issued = read(data, "serverCertificate");

    const early = await runCompose(setup, data, ["renew-cert", "--output=dir:/data", "--renew-before=720h"], {});
    expect(early.code, early.text).toBe(0);
    expect(early.text).toContain("outside the renewal window; nothing to do");
    expect(read(data, "serverCertificate")).toBe(issued);

    now = new Date(now.getTime() + 61 * DAY_MS);
    const due = await runCompose(setup, data, ["renew-cert", "--output=dir:/data", "--renew-before=720h"], {});
    expect(due.code, due.text).toBe(0);
    expect(read(data, "serverCertificate")).not.toBe(issued);
    expect(Date.parse(new X509Certificate(read(data, "serverCertificate")).validTo)).toBeGreaterThan(now.getTime() + 89 * DAY_MS);
  });

  it.each([["30d"], ["thirty days"]])("refuses --renew-before=%s, which is not a Go duration", async (value) => {
    const data = dataDir({ chowned: true });
    await runCompose(fastSetup, data, initArgs(), await composeEnv());
    const result = await runCompose(fastSetup, data, ["renew-cert", "--output=dir:/data", `--renew-before=${value}`], {});
    expect(result.code).not.toBe(0);
    expect(result.text).toContain(`invalid value "${value}" for --renew-before`);
  });

  it("fails naming the output when no CA is stored there", async () => {
    const result = await runCompose(fastSetup, dataDir({ chowned: true }), ["renew-cert", "--output=dir:/data"], {});
    expect(result.code).not.toBe(0);
    expect(result.text).toContain("no CA stored in dir:/data");
  });
});
