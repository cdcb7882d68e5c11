import type * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tunnels from "pulumi-mcp-tunnels";
import { generateCertificateAuthority } from "../../core/pki";
import { badInputs, type BadInput, type ResourceKind } from "../fixtures/bad-inputs";
import { TestEmulator } from "../harness/emulator";
import { previewPlan } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

// `make test` runs a sample across every resource; `make soak` (MCP_TUNNELS_SOAK=1) runs the whole table.
const SOAK = process.env.MCP_TUNNELS_SOAK === "1";
const SAMPLE = [
  "an empty displayName",
  "adoptTunnelId with the wrong prefix",
  "negative validity days",
  "a server certificate for a non-tunnel domain",
  "a token rotating every 0 days",
  "an unknown workspace role",
  "a route with a path",
  'a CA certificate breaking "no private-key material" (pkcs8PrivateKeyAppended)',
  'a CA certificate breaking "no private-key material" (privateKeyInPlaceOfCertificate)',
  'a CA certificate breaking "exactly one CERTIFICATE block" (twoCertificates)',
  'a CA certificate breaking "currently within validity" (expired)',
];

const CONSTRUCTORS: Record<ResourceKind, (inputs: Record<string, unknown>) => pulumi.Resource> = {
  Tunnel: (inputs) => new tunnels.Tunnel("bad", inputs as never),
  TunnelCertificate: (inputs) => new tunnels.TunnelCertificate("bad", inputs as never),
  TunnelToken: (inputs) => new tunnels.TunnelToken("bad", inputs as never),
  FederationRuleBinding: (inputs) => new tunnels.FederationRuleBinding("bad", inputs as never),
  CertificateAuthority: (inputs) => new tunnels.CertificateAuthority("bad", inputs as never),
  ServerCertificate: (inputs) => new tunnels.ServerCertificate("bad", inputs as never),
  TunnelDeployment: (inputs) => new tunnels.TunnelDeployment("bad", inputs as never),
};

let emulator: TestEmulator;
let table: BadInput[];
beforeAll(async () => {
  emulator = await TestEmulator.start();
  const ca = await generateCertificateAuthority({ commonName: "bad-input CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
  const all = await badInputs(new Date(), ca);
  table = SOAK ? all : all.filter((entry) => SAMPLE.includes(entry.name));
});
afterAll(() => emulator?.close());

describe("bad input on the real engine", () => {
  it(`fails at preview naming the property and the fix, prints no key material and no stack trace, and sends no mutating call (${SOAK ? "whole table" : "sample"})`, async () => {
    expect(table.length).toBe(SOAK ? table.length : SAMPLE.length);
    const problems: string[] = [];
    for (const entry of table) {
      const { stack } = await createHermeticStack({ env: await emulator.engineEnv(), program: async () => void CONSTRUCTORS[entry.kind](entry.inputs) });
      await emulator.control("DELETE", "/_emulator/requests");
      const outcome = await previewPlan(stack).then(
        () => "",
        (error: unknown) => String(error),
      );
      if (outcome === "") problems.push(`${entry.name}: preview succeeded`);
      else if (!outcome.includes(entry.property) || !entry.fix.test(outcome)) problems.push(`${entry.name}: preview failed without naming ${entry.property} and the fix`);
      const keyLines = JSON.stringify(entry.inputs).includes("PRIVATE KEY") ? String(entry.inputs.caCertificatePem).split("\n").filter((l) => l.length > 40 && !l.startsWith("-----")) : [];
      // Bad settings are the user's to fix: a stack trace through the program or the provider only buries the fix.
      if (/^\s+at .+:\d+:\d+\)?$/m.test(outcome)) problems.push(`${entry.name}: the preview output shows a stack trace`);
      if (/PRIVATE KEY/.test(outcome) || keyLines.some((line) => outcome.includes(line))) problems.push(`${entry.name}: the preview output shows key material`);
      const mutating = await emulator.mutatingRequests();
      if (mutating.length > 0) problems.push(`${entry.name}: sent ${mutating.map((r) => `${r.method} ${r.path}`).join(", ")}`);
    }
    expect(problems).toEqual([]);
  });
});
