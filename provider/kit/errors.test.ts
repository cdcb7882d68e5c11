import { afterEach, describe, expect, it } from "vitest";
import { TunnelsApiError } from "../../core/api/errors";
import { PkiError } from "../../core/pki/errors";
import { forgetCredentialsFailure, inContext, ProviderError, ResourceOperationError, withCodes } from "./errors";
import { forEngine } from "./provider-module";

const denied = () =>
  new TunnelsApiError({ code: "AUTHENTICATION_FAILED", summary: "the federation token exchange was denied", hint: "mint a fresh identity token", source: "token-exchange", status: 401 });

async function failureOf(run: () => Promise<unknown>): Promise<ResourceOperationError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ResourceOperationError);
    return error as ResourceOperationError;
  }
  throw new Error("expected a failure");
}

afterEach(forgetCredentialsFailure);

describe("one credentials failure reads as one error", () => {
  it("explains the first failure in full and points the others at it", async () => {
    const first = await failureOf(() => inContext("Tunnel tnl_a", "read", () => Promise.reject(denied())));
    const second = await failureOf(() => inContext("TunnelToken for tnl_a", "read", () => Promise.reject(denied())));
    expect(first.message).toBe("Tunnel tnl_a read failed: the federation token exchange was denied (status 401). mint a fresh identity token");
    expect(second.message).toBe(
      "TunnelToken for tnl_a read failed for the same reason as Tunnel tnl_a read (AUTHENTICATION_FAILED: the federation token exchange was denied); that error says what to do",
    );
    expect(first).toMatchObject({ code: "CREDENTIALS_FAILED", apiCode: "AUTHENTICATION_FAILED", status: 401, reportedFirstBy: undefined });
    expect(second).toMatchObject({ code: "CREDENTIALS_FAILED", apiCode: "AUTHENTICATION_FAILED", hint: "mint a fresh identity token", reportedFirstBy: "Tunnel tnl_a read" });
    expect(second.cause).toBeInstanceOf(TunnelsApiError);
  });

  it("explains every failure that is not about credentials in full", async () => {
    const conflict = () => new TunnelsApiError({ code: "CERT_SLOTS_FULL", summary: "two CAs are active", hint: "archive one", source: "api" });
    await failureOf(() => inContext("Tunnel tnl_a", "read", () => Promise.reject(denied())));
    const other = await failureOf(() => inContext("TunnelCertificate on tnl_a", "create", () => Promise.reject(conflict())));
    expect(other.message).toBe("TunnelCertificate on tnl_a create failed: two CAs are active. archive one");
    expect(other).toMatchObject({ code: "API_FAILED", apiCode: "CERT_SLOTS_FULL", reportedFirstBy: undefined });
  });

  it("explains a different credentials failure in full", async () => {
    const missing = () => new TunnelsApiError({ code: "CONFIGURATION", summary: "ANTHROPIC_ORGANIZATION_ID is not set", hint: "set it" });
    await failureOf(() => inContext("Tunnel tnl_a", "read", () => Promise.reject(denied())));
    const other = await failureOf(() => inContext("Tunnel tnl_b", "read", () => Promise.reject(missing())));
    expect(other.message).toBe("Tunnel tnl_b read failed: ANTHROPIC_ORGANIZATION_ID is not set. set it");
    expect(other).toMatchObject({ code: "CREDENTIALS_FAILED", apiCode: "CONFIGURATION", reportedFirstBy: undefined });
  });
});

describe("a provider failure has a code, the resource, the operation and the fix", () => {
  const notFound = () =>
    new TunnelsApiError({ code: "TUNNELS_NOT_FOUND", summary: "no tunnel tnl_x", hint: "check the id", source: "api", status: 404, requestId: "req_1", operation: "tunnels.retrieve" });

  it("carries the API's code, HTTP status and request id through a code of the provider's own", async () => {
    const failure = await failureOf(() => inContext('Tunnel "edge"', "create", () => withCodes(Promise.reject(notFound()), { TUNNELS_NOT_FOUND: "ADOPT_NOT_FOUND" })));
    expect(failure).toMatchObject({
      code: "ADOPT_NOT_FOUND",
      resource: 'Tunnel "edge"',
      operation: "create",
      hint: "check the id",
      apiCode: "TUNNELS_NOT_FOUND",
      status: 404,
      requestId: "req_1",
    });
    expect(failure.message).toBe(`Tunnel "edge" create failed: ${notFound().message}`);
  });

  it("leaves an API failure without a mapping its generic code", async () => {
    const failure = await failureOf(() => inContext('Tunnel "edge"', "create", () => withCodes(Promise.reject(notFound()), { CERT_SLOTS_FULL: "CERTIFICATE_SLOTS_FULL" })));
    expect(failure).toMatchObject({ code: "API_FAILED", apiCode: "TUNNELS_NOT_FOUND" });
  });

  it("keeps the code, hint and words a provider step gave its own failure", async () => {
    const fixes = "create a new rule; enable it for wrkspc_a";
    const refusal = new ProviderError("FEDERATION_RULE_UNUSABLE", "rule fdrl_x is archived: create a new rule; it is not enabled for wrkspc_a: enable it for wrkspc_a", { hint: fixes });
    const failure = await failureOf(() => inContext("FederationRuleBinding fdrl_x → wrkspc_a", "create", () => Promise.reject(refusal)));
    expect(failure).toMatchObject({ code: "FEDERATION_RULE_UNUSABLE", hint: fixes, apiCode: undefined, cause: refusal });
    // Regression: the fixes, already in the step's words, are not appended a second time.
    expect(failure.message).toBe(`FederationRuleBinding fdrl_x → wrkspc_a create failed: ${refusal.message}`);
  });

  it.each([
    ["PKI_FAILED", new PkiError("KEY_MISMATCH", "the CA private key does not belong to the CA certificate", "pass the key generated with this CA")],
    ["FILESYSTEM_FAILED", Object.assign(new Error("EACCES: permission denied, open '/srv/x'"), { code: "EACCES", syscall: "open", errno: -13 })],
    ["UNEXPECTED", new TypeError("undefined is not a function")],
  ])("gives a failure of another layer the code %s", async (code, cause) => {
    const failure = await failureOf(() => inContext("ServerCertificate for d", "create", () => Promise.reject(cause)));
    expect(failure.code).toBe(code);
  });

  it("appends the hint of a PKI failure, whose message leaves it out", async () => {
    const failure = await failureOf(() =>
      inContext("ServerCertificate for d", "create", () => Promise.reject(new PkiError("KEY_MISMATCH", "the key does not belong to the CA", "pass the key generated with this CA"))),
    );
    expect(failure).toMatchObject({ pkiCode: "KEY_MISMATCH", hint: "pass the key generated with this CA" });
    expect(failure.message).toBe("ServerCertificate for d create failed: the key does not belong to the CA (pass the key generated with this CA)");
  });
});

describe("failures leave the provider without stack frames", () => {
  const failing = (error: unknown) => forEngine({ typeName: "Tunnel" }, { create: () => Promise.reject(error), read: () => Promise.reject(error) });

  it("drops the host's repeat of the message with its stack, and nothing else it logs", async () => {
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      const error = await failureOf(() => failing(new Error("the tunnel is gone")).read!("tnl_a", {}));
      expect(error.message).toBe("the tunnel is gone");
      expect(error.stack).toBe("ResourceOperationError: the tunnel is gone");
      // What the dynamic-provider host does with a failed read before answering the engine.
      console.error(`${error}: ${error.stack}`);
      console.error("fatal: something else");
      expect(logged).toEqual([["fatal: something else"]]);
    } finally {
      console.error = original;
    }
  });

  it("makes any other failure a ResourceOperationError with its message unchanged", async () => {
    const outside = await failureOf(() => failing(new TunnelsApiError({ code: "RATE_LIMITED", summary: "slow down", hint: "wait", status: 429 })).read!("tnl_a", {}));
    expect(outside).toMatchObject({ code: "API_FAILED", apiCode: "RATE_LIMITED", status: 429, resource: "Tunnel tnl_a", operation: "read", message: "slow down (status 429). wait" });
    const contextual = new ResourceOperationError({ resource: 'Tunnel "edge"', operation: "create", cause: new Error("boom") });
    expect(await failureOf(() => failing(contextual).create({}))).toBe(contextual);
  });

  it("never gives the engine an id, which would record the failure as a resource that exists", async () => {
    const error = await failureOf(() => failing(new Error("no")).create({}));
    expect("id" in error || "properties" in error).toBe(false);
  });
});
