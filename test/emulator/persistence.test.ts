import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintAccessToken } from "../support/emulator-credentials";
import { ANTHROPIC_VERSION, TUNNELS_BETA } from "../../core/contract/tunnels-api";
import { generateCertificateAuthority } from "../../core/pki";
import { compileCli, startCli } from "./compiled-cli";
import { Conformance } from "./conformance-client";

let dir: string;
let cliPath: string;
let removeCli: () => void;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "emulator-state-"));
  ({ cliPath, remove: removeCli } = compileCli());
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeCli();
});

const tunnelsCall = (baseUrl: string, token: string, method: string, path: string, body?: unknown) =>
  fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "anthropic-version": ANTHROPIC_VERSION, "anthropic-beta": TUNNELS_BETA, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

describe("--state", () => {
  it("reloads every change after a restart, including tokens and used jtis", async () => {
    const statePath = join(dir, "restart.json");
    const first = await Conformance.start({ statePath });
    const tunnel = (await first.tunnels("POST", "/v1/tunnels", { body: { display_name: "kept" } })).body;
    const ca = await generateCertificateAuthority({ commonName: "Kept CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
    const certificate = (await first.tunnels("POST", `/v1/tunnels/${tunnel.id}/certificates`, { body: { ca_certificate_pem: ca.certificatePem } })).body;
    const rotated = (await first.tunnels("POST", `/v1/tunnels/${tunnel.id}/rotate_token`, { body: { reason: "before restart" } })).body;
    const token = await first.tunnelsToken();
    const usedAssertion = await first.identityToken("system:serviceaccount:mcp-tunnel:setup");
    expect((await first.exchange(usedAssertion)).status).toBe(200);
    const unusedAssertion = await first.identityToken("system:serviceaccount:mcp-tunnel:setup");
    const port = first.running.port;
    await first.close();
    expect(JSON.parse(readFileSync(statePath, "utf8")).state.tunnels).toHaveLength(1);

    const second = await Conformance.start({ statePath, port });
    try {
      expect((await second.call("GET", `/v1/tunnels/${tunnel.id}`, { token })).body).toEqual(tunnel);
      expect((await second.call("GET", `/v1/tunnels/${tunnel.id}/certificates`, { token })).body.data).toEqual([certificate]);
      expect((await second.call("POST", `/v1/tunnels/${tunnel.id}/reveal_token`, { token })).body).toEqual(rotated);
      expect((await second.exchange(usedAssertion)).status).toBe(401);
      expect(await second.lastDenialReason()).toBe("replayed_jti");
      expect((await second.exchange(unusedAssertion)).status).toBe(200);
      const actions = (await second.audit()).map((entry) => entry.action);
      expect(actions).toEqual(expect.arrayContaining(["tunnel.create", "certificate.create", "token.rotate", "oauth.exchange"]));
    } finally {
      await second.close();
    }
  });
});

describe("the mcp-tunnels-emulator command", () => {
  it.each([["SIGTERM"], ["SIGINT"]] as const)("prints exactly the listening line and exits 0 on %s", async (signal) => {
    const cli = await startCli(cliPath, ["--port", "0"]);
    expect(cli.firstLine).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    expect((await fetch(`${cli.baseUrl}/_emulator/oidc/jwks`)).status).toBe(200);
    cli.child.kill(signal);
    expect(await cli.exit).toEqual({ code: 0, signal: null });
  });

  it("loads pki and jose on first use in the compiled build: an exchange and a certificate upload succeed", async () => {
    const cli = await startCli(cliPath, ["--port", "0"]);
    try {
      const token = await mintAccessToken(cli.baseUrl);
      const tunnel = (await (await tunnelsCall(cli.baseUrl, token, "POST", "/v1/tunnels", {})).json()) as { id: string };
      const ca = await generateCertificateAuthority({ commonName: "Compiled CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
      const uploaded = await tunnelsCall(cli.baseUrl, token, "POST", `/v1/tunnels/${tunnel.id}/certificates`, { ca_certificate_pem: ca.certificatePem });
      expect(uploaded.status).toBe(200);
      expect(((await uploaded.json()) as { fingerprint: string }).fingerprint).toBe(ca.fingerprint);
    } finally {
      cli.child.kill("SIGTERM");
      await cli.exit;
    }
  });

  it("refuses a corrupt state file with exit 1 and a message naming it", async () => {
    const statePath = join(dir, "corrupt.json");
    writeFileSync(statePath, "{ half a file");
    await expect(startCli(cliPath, ["--port", "0", "--state", statePath])).rejects.toThrow(/exited with 1 .*corrupt\.json/s);
  });

  it("refuses bad arguments with exit 2", async () => {
    await expect(startCli(cliPath, ["--port", "eighty"])).rejects.toThrow(/exited with 2/);
  });

  it("leaves a loadable state file holding every acknowledged change after kill -9 at any moment", async () => {
    const statePath = join(dir, "killed.json");
    const acknowledged = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const cli = await startCli(cliPath, ["--port", "0", "--state", statePath]);
      const token = await mintAccessToken(cli.baseUrl);
      let running = true;
      const churn = (async () => {
        while (running) {
          const created = await tunnelsCall(cli.baseUrl, token, "POST", "/v1/tunnels", { display_name: `round ${round}` }).catch(() => undefined);
          if (!created || created.status !== 200) break;
          const { id } = (await created.json()) as { id: string };
          acknowledged.add(id);
          const archived = await tunnelsCall(cli.baseUrl, token, "POST", `/v1/tunnels/${id}/archive`).catch(() => undefined);
          if (!archived || archived.status !== 200) break;
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 250));
      cli.child.kill("SIGKILL");
      running = false;
      await churn;
      expect((await cli.exit).signal).toBe("SIGKILL");

      expect(() => JSON.parse(readFileSync(statePath, "utf8"))).not.toThrow();
      const restarted = await startCli(cliPath, ["--port", "0", "--state", statePath]);
      try {
        const listed = await tunnelsCall(restarted.baseUrl, await mintAccessToken(restarted.baseUrl), "GET", "/v1/tunnels?include_archived=true&limit=1000");
        const ids = new Set(((await listed.json()) as { data: { id: string }[] }).data.map((tunnel) => tunnel.id));
        for (const id of acknowledged) expect(ids.has(id)).toBe(true);
      } finally {
        restarted.child.kill("SIGTERM");
        await restarted.exit;
      }
    }
    expect(acknowledged.size).toBeGreaterThan(0);
  });
});
