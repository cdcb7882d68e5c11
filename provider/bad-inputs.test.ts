import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { generateCertificateAuthority } from "../core/pki";
import { checkTunnelDeploymentSettings } from "../sdk/resources/tunnel-deployment";
import { badInputs, type BadInput, type ResourceKind } from "../test/fixtures/bad-inputs";
import { provider as certificateAuthority } from "./certificate-authority";
import { provider as federationRuleBinding } from "./federation-rule-binding";
import { provider as serverCertificate } from "./server-certificate";
import { provider as tunnel } from "./tunnel";
import { provider as tunnelCertificate } from "./tunnel-certificate";
import { provider as tunnelToken } from "./tunnel-token";

// The engine-facing providers: exactly what `pulumi preview` calls.
const PROVIDERS: Record<Exclude<ResourceKind, "TunnelDeployment">, pulumi.dynamic.ResourceProvider> = {
  Tunnel: tunnel,
  TunnelCertificate: tunnelCertificate,
  TunnelToken: tunnelToken,
  FederationRuleBinding: federationRuleBinding,
  CertificateAuthority: certificateAuthority,
  ServerCertificate: serverCertificate,
};

async function failuresOf(entry: BadInput): Promise<pulumi.dynamic.CheckFailure[]> {
  if (entry.kind === "TunnelDeployment") {
    return checkTunnelDeploymentSettings(entry.inputs).problems.map((p) => ({ property: "", reason: `${p.property}: ${p.reason}` }));
  }
  const inputs = Object.fromEntries(Object.entries(entry.inputs).filter(([, value]) => value !== undefined));
  return (await PROVIDERS[entry.kind].check!({}, inputs)).failures ?? [];
}

/** What of an input must never reappear in a message: PEM bodies line by line, other long values whole. */
function echoCandidates(inputs: Record<string, unknown>): string[] {
  const strings: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === "string") strings.push(value);
    else if (value && typeof value === "object") Object.values(value).forEach(collect);
  };
  collect(inputs);
  return strings.flatMap((value) =>
    value.includes("-----BEGIN") ? value.split("\n").filter((line) => line.length >= 16 && !line.startsWith("-----")) : value.length >= 16 ? [value] : [],
  );
}

let table: BadInput[] = [];
beforeAll(async () => {
  const ca = await generateCertificateAuthority({ commonName: "bad-input CA", keyAlgorithm: "ECDSA_P256", validityDays: 30, now: new Date() });
  table = await badInputs(new Date(), ca);
});

describe("bad input fails at preview with the property and the fix, never the value", () => {
  it("covers at least 40 bad inputs across every resource", () => {
    expect(table.length).toBeGreaterThanOrEqual(40);
    expect(new Set(table.map((entry) => entry.kind)).size).toBe(7);
  });

  it("rejects every entry of the table", async () => {
    const problems: string[] = [];
    for (const entry of table) {
      const failures = await failuresOf(entry);
      const text = failures.map((f) => f.reason).join("\n");
      if (failures.length === 0) problems.push(`${entry.name}: accepted`);
      else if (!failures.some((f) => f.reason.includes(entry.property) && entry.fix.test(f.reason))) problems.push(`${entry.name}: says ${JSON.stringify(text)}`);
      if (failures.some((f) => f.property !== "")) problems.push(`${entry.name}: a failure names a property, so the engine would print its value`);
      const echoed = echoCandidates(entry.inputs).find((value) => text.includes(value));
      if (echoed) problems.push(`${entry.name}: echoes its input ${JSON.stringify(echoed.slice(0, 20))} in ${JSON.stringify(text)}`);
      if (/PRIVATE KEY/.test(text)) problems.push(`${entry.name}: mentions key material`);
    }
    expect(problems).toEqual([]);
  });
});
