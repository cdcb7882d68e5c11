import type * as pulumi from "@pulumi/pulumi";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { certificateAuthoritySchema } from "../core/schemas/certificate-authority";
import type { ResourceSchema } from "../core/schemas/field";
import { serverCertificateSchema } from "../core/schemas/server-certificate";
import { tunnelSchema } from "../core/schemas/tunnel";
import { tunnelCertificateSchema } from "../core/schemas/tunnel-certificate";
import { tunnelTokenSchema } from "../core/schemas/tunnel-token";
import { tunnelDeploymentSchema } from "../core/schemas/tunnel-deployment";
import { checkTunnelDeploymentSettings } from "../sdk/resources/tunnel-deployment";
import { CertificateAuthorityProvider } from "./certificate-authority";
import type { ApiClients } from "./kit/clients";
import { FakeClock } from "./kit/clock";
import { RESOURCE_URN_INPUT } from "./kit/create-journal";
import { forEngine } from "./kit/provider-module";
import { ProviderRuntime } from "./kit/runtime";
import { ServerCertificateProvider } from "./server-certificate";
import { TunnelProvider } from "./tunnel";
import { TunnelCertificateProvider } from "./tunnel-certificate";
import { TunnelTokenProvider } from "./tunnel-token";

// Any API call here is a bug: random input must be refused before the network.
const noNetwork = new Proxy({}, { get: () => () => { throw new Error("check called the API"); } }) as unknown as ApiClients;
const clock = new FakeClock();

const CASES: [string, ResourceSchema, pulumi.dynamic.ResourceProvider][] = [
  ["Tunnel", tunnelSchema, forEngine(tunnelSchema, new TunnelProvider(noNetwork))],
  ["TunnelToken", tunnelTokenSchema, forEngine(tunnelTokenSchema, new TunnelTokenProvider(noNetwork, clock, new ProviderRuntime()))],
  ["CertificateAuthority", certificateAuthoritySchema, forEngine(certificateAuthoritySchema, new CertificateAuthorityProvider(clock))],
  ["ServerCertificate", serverCertificateSchema, forEngine(serverCertificateSchema, new ServerCertificateProvider(clock))],
  ["TunnelCertificate", tunnelCertificateSchema, forEngine(tunnelCertificateSchema, new TunnelCertificateProvider(noNetwork, clock))],
];

/** Objects whose keys are mostly the schema's own fields, with values of any JSON shape. */
const inputsFor = (schema: ResourceSchema): fc.Arbitrary<Record<string, unknown>> =>
  fc.dictionary(fc.oneof(fc.constantFrom(...Object.keys(schema.inputs.shape)), fc.string({ maxLength: 12 })), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 8 });

describe("check on random input", () => {
  it.each(CASES)("%s: never throws, refuses with named reasons, or accepts what its schema accepts", async (_name, schema, provider) => {
    await fc.assert(
      fc.asyncProperty(inputsFor(schema), async (news) => {
        const { inputs, failures = [] } = await provider.check!({}, news);
        for (const failure of failures) {
          expect(failure.property).toBe("");
          expect(failure.reason.length).toBeGreaterThan(10);
        }
        if (failures.length === 0) {
          // Derived inputs (renewAt, rotateAt) and the Tunnel's hidden resourceUrn are not user fields.
          const { renewAt: _renewAt, rotateAt: _rotateAt, [RESOURCE_URN_INPUT]: _urn, ...given } = inputs as Record<string, unknown>;
          expect(schema.inputs.safeParse(given).success).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("TunnelDeployment settings: never throw, and every problem names a property", () => {
    fc.assert(
      fc.property(inputsFor(tunnelDeploymentSchema), (settings) => {
        const { problems } = checkTunnelDeploymentSettings(settings);
        for (const problem of problems) expect(problem.property.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
