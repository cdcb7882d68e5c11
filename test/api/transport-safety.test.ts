import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TunnelsClient } from "../../core/api/index";
import { generateCertificateAuthority, issueServerCertificate } from "../../core/pki/index";
import { REPO_ROOT } from "../harness/engine";

const BEARER = "bearer-that-must-stay-home-0123456789";
const servers: (http.Server | https.Server)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function listen<T extends http.Server | https.Server>(server: T): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

const clientFor = (baseUrl: string) => new TunnelsClient({ baseUrl, retryBudget: { attempts: 1 }, timeoutMs: 5_000, env: { ANTHROPIC_AUTH_TOKEN: BEARER } });

describe("transport safety", () => {
  it.each(["http://api.example.internal", "http://10.1.2.3:8080", "http://[fd00::1]:80", "ftp://127.0.0.1"])("refuses %s before sending anything", async (baseUrl) => {
    await expect(clientFor(baseUrl).tunnels.retrieve("tnl_1111111111111111111111AA")).rejects.toMatchObject({ code: "CONFIGURATION" });
  });

  it("never follows a redirect, so the bearer cannot reach another origin", async () => {
    const seenByOtherOrigin: (string | undefined)[] = [];
    const otherPort = await listen(http.createServer((req, res) => (seenByOtherOrigin.push(req.headers.authorization), res.end("{}"))));
    const apiPort = await listen(http.createServer((_req, res) => res.writeHead(307, { location: `http://127.0.0.1:${otherPort}/v1/tunnels/x` }).end()));
    await expect(clientFor(`http://127.0.0.1:${apiPort}`).tunnels.retrieve("tnl_1111111111111111111111AA")).rejects.toThrow();
    expect(seenByOtherOrigin).toEqual([]);
  });

  it("verifies TLS: a server whose certificate is not trusted is refused", async () => {
    const now = new Date();
    const ca = await generateCertificateAuthority({ commonName: "untrusted", keyAlgorithm: "ECDSA_P256", validityDays: 2, now });
    const leaf = await issueServerCertificate({ caCertificatePem: ca.certificatePem, caPrivateKeyPem: ca.privateKeyPem, domain: "ab12cd34.tunnel.anthropic.com", keyAlgorithm: "ECDSA_P256", validityDays: 1, now });
    let served = 0;
    const port = await listen(https.createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (_req, res) => (served++, res.end("{}"))));
    await expect(clientFor(`https://127.0.0.1:${port}`).tunnels.retrieve("tnl_1111111111111111111111AA")).rejects.toMatchObject({ code: "CONNECTION" });
    expect(served).toBe(0);
  });

  it("has no switch that turns certificate verification off anywhere in the product", () => {
    const offenders: string[] = [];
    for (const dir of ["sdk", "provider"]) {
      for (const file of fs.readdirSync(path.join(REPO_ROOT, dir), { recursive: true }) as string[]) {
        if (!file.endsWith(".ts") || file.endsWith(".test.ts") || file.includes("testing")) continue;
        const text = fs.readFileSync(path.join(REPO_ROOT, dir, file), "utf8");
        if (/rejectUnauthorized\s*:\s*false|NODE_TLS_REJECT_UNAUTHORIZED|checkServerIdentity\s*:/.test(text)) offenders.push(`${dir}/${file}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
