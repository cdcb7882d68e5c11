import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import { certificateAuthoritySchema } from "../../core/schemas/certificate-authority";
import { serverCertificateSchema } from "../../core/schemas/server-certificate";
import { tunnelSchema } from "../../core/schemas/tunnel";
import { tunnelTokenSchema } from "../../core/schemas/tunnel-token";
import { UNKNOWN } from "../../core/schemas/engine-values";
import { checkInputs, diffInputs, engineInputs } from "./inputs";

describe("checkInputs", () => {
  it("uses the engine's own placeholder for unknown values", () => {
    expect(UNKNOWN).toBe(unknownValue);
  });

  it("skips fields that are unknown in preview and keeps them in the inputs", () => {
    const checked = checkInputs(tunnelTokenSchema, { tunnelId: UNKNOWN, rotateEveryDays: 30 });
    expect(checked.failures).toEqual([]);
    expect(checked.inputs).toEqual({ tunnelId: UNKNOWN, rotateEveryDays: 30 });
    expect(checked.unknownKeys).toEqual(new Set(["tunnelId"]));
  });

  it("applies defaults from the schema", () => {
    const checked = checkInputs(certificateAuthoritySchema, {});
    expect(checked.inputs).toMatchObject({ commonName: "MCP tunnel CA", keyAlgorithm: "ECDSA_P256", validityDays: 1825, renewBeforeDays: 90 });
  });

  it.each([
    ["displayName", {}, "displayName is required"],
    ["displayName", { displayName: "" }, "displayName must not be empty"],
    ["displayName", { displayName: "x".repeat(256) }, "longer than 255"],
    ["adoptTunnelId", { displayName: "a", adoptTunnelId: "tunnel-1" }, "tnl_ followed by 24 base58"],
    ["displayNme", { displayName: "a", displayNme: "b" }, "unknown input displayNme"],
  ])("names %s and the fix for a bad Tunnel input", (property, news, reason) => {
    const { failures } = checkInputs(tunnelSchema, news);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.property).toBe(property);
    expect(failures[0]?.reason).toContain(reason);
  });

  it("never repeats the value it rejects", () => {
    const secretish = "sk-ant-this-must-not-appear-anywhere";
    const { failures } = checkInputs(tunnelSchema, { displayName: secretish.repeat(20), adoptTunnelId: secretish });
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect(failure.reason).not.toContain("sk-ant");
  });

  it("reports cross-field rules with the property to fix", () => {
    const { failures } = checkInputs(certificateAuthoritySchema, { validityDays: 30, renewBeforeDays: 30 });
    expect(failures).toEqual([{ property: "renewBeforeDays", reason: expect.stringContaining("smaller than validityDays") }]);
  });
});

describe("diffInputs", () => {
  it("ignores a changed serialized provider: an upgrade plans nothing", () => {
    const diff = diffInputs(tunnelSchema.inputs.shape, { displayName: "a", __provider: "old code" }, { displayName: "a", __provider: "new code" });
    expect(diff).toMatchObject({ changes: false, replaces: [] });
  });

  it("names the replace-on-change fields that differ as replace reasons", () => {
    const diff = diffInputs(tunnelSchema.inputs.shape, { displayName: "a", tunnelId: "tnl_x", domain: "d" }, { displayName: "b" });
    expect(diff).toMatchObject({ changes: true, replaces: ["displayName"] });
  });

  it("plans an update, not a replace, for fields that do not replace", () => {
    const diff = diffInputs(tunnelTokenSchema.inputs.shape, { tunnelId: "t", rotation: "1" }, { tunnelId: "t", rotation: "2" });
    expect(diff).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("engineInputs", () => {
  it("types what check returned, leaving out the engine's own keys and hidden inputs", () => {
    const checked = checkInputs(tunnelSchema, { displayName: "edge" }).inputs;
    const typed = engineInputs(tunnelSchema, "create", { ...checked, __provider: "serialized", resourceUrn: "urn:pulumi:dev::p::t::edge" });
    expect(typed).toEqual({ displayName: "edge" });
  });

  it("refuses inputs check would not return, or that lack a derived field the operation needs", () => {
    expect(() => engineInputs(tunnelSchema, "create", { displayName: "" })).toThrow(expect.objectContaining({ code: "INPUTS_NOT_CHECKED", resource: "Tunnel" }));
    const withoutRenewAt = checkInputs(serverCertificateSchema, { caCertificatePem: "pem", caPrivateKeyPem: "key", domain: "abcd1234.tunnel.anthropic.com" }).inputs;
    expect(() => engineInputs(serverCertificateSchema, "create", withoutRenewAt, ["renewAt"])).toThrow(expect.objectContaining({ code: "INPUTS_NOT_CHECKED" }));
  });
});
