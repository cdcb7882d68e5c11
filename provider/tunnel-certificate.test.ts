import { describe, expect, it } from "vitest";
import { TunnelsApiError } from "../core/api/errors";
import type { ApiClients } from "./kit/clients";
import { FakeClock } from "./kit/clock";
import { TunnelCertificateProvider } from "./tunnel-certificate";

const TUNNEL = "tnl_1111111111111111111111AA";

describe("TunnelCertificate create", () => {
  it("reports a tunnel whose slots filled after preview as CERTIFICATE_SLOTS_FULL, with the API's facts", async () => {
    const full = new TunnelsApiError({ code: "CERT_SLOTS_FULL", summary: "the tunnel has 2 active CA certificates", hint: "archive one", source: "api", status: 409, requestId: "req_9" });
    const clients = { tunnels: () => ({ certificates: { create: () => Promise.reject(full) } }) } as unknown as ApiClients;
    const failure = new TunnelCertificateProvider(clients, new FakeClock()).create({ tunnelId: TUNNEL, caCertificatePem: "-----BEGIN CERTIFICATE-----" });
    await expect(failure).rejects.toMatchObject({
      code: "CERTIFICATE_SLOTS_FULL",
      resource: `TunnelCertificate on ${TUNNEL}`,
      hint: "archive one",
      apiCode: "CERT_SLOTS_FULL",
      status: 409,
      requestId: "req_9",
      message: `TunnelCertificate on ${TUNNEL} create failed: ${full.message}`,
    });
  });
});
