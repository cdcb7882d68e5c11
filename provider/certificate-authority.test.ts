import { describe, expect, it } from "vitest";
import { checkCaCertificatePem } from "../core/pki";
import { CertificateAuthorityProvider } from "./certificate-authority";
import { FakeClock } from "./kit/clock";

describe("CertificateAuthority renewal is a planned replacement", () => {
  it("issues a CA that meets the API's rules, expiring exactly renewBeforeDays after renewAt", async () => {
    const clock = new FakeClock("2026-11-25T12:00:00Z");
    const provider = new CertificateAuthorityProvider(clock);
    const { inputs, failures } = await provider.check({}, { validityDays: 365, renewBeforeDays: 30 });
    expect(failures).toEqual([]);
    expect(inputs.renewAt).toBe("2027-10-26T12:00:00.000Z");
    const { outs } = await provider.create(inputs);
    expect(outs.notAfter).toBe("2027-11-25T12:00:00.000Z");
    expect(outs.renewAt).toBe(inputs.renewAt);
    expect((await checkCaCertificatePem(outs.certificatePem, clock.now())).ok).toBe(true);
  });

  it("plans nothing before renewAt and a replacement because of renewAt after it", async () => {
    const clock = new FakeClock("2026-11-25T12:00:00Z");
    const provider = new CertificateAuthorityProvider(clock);
    const first = (await provider.check({}, { validityDays: 365, renewBeforeDays: 30 })).inputs;
    const { outs } = await provider.create(first);

    clock.set("2027-10-26T11:59:59Z");
    const before = (await provider.check(first, { validityDays: 365, renewBeforeDays: 30 })).inputs;
    expect(await provider.diff("id", outs, before)).toMatchObject({ changes: false });

    clock.set("2027-10-26T12:00:00Z");
    const after = (await provider.check(first, { validityDays: 365, renewBeforeDays: 30 })).inputs;
    expect(await provider.diff("id", outs, after)).toMatchObject({ changes: true, replaces: ["renewAt"] });
  });

  it("replaces because of rotation when rotation changes", async () => {
    const provider = new CertificateAuthorityProvider(new FakeClock());
    const first = (await provider.check({}, { rotation: 1 })).inputs;
    const { outs } = await provider.create(first);
    const next = (await provider.check(first, { rotation: 2 })).inputs;
    expect((await provider.diff("id", outs, next)).replaces).toContain("rotation");
  });
});
