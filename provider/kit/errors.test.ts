import { afterEach, describe, expect, it } from "vitest";
import { TunnelsApiError } from "../../sdk/api/errors";
import { forgetCredentialsFailure, inContext, ResourceOperationError } from "./errors";
import { forEngine } from "./provider-module";

const denied = () =>
  new TunnelsApiError({ code: "AUTHENTICATION_FAILED", summary: "the federation token exchange was denied", hint: "mint a fresh identity token", source: "token-exchange", status: 401 });

async function failureOf(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
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
    expect(second).toBeInstanceOf(ResourceOperationError);
    expect((second as ResourceOperationError).cause).toBeInstanceOf(TunnelsApiError);
  });

  it("explains every failure that is not about credentials in full", async () => {
    const conflict = () => new TunnelsApiError({ code: "CERT_SLOTS_FULL", summary: "two CAs are active", hint: "archive one", source: "api" });
    await failureOf(() => inContext("Tunnel tnl_a", "read", () => Promise.reject(denied())));
    const other = await failureOf(() => inContext("TunnelCertificate on tnl_a", "create", () => Promise.reject(conflict())));
    expect(other.message).toBe("TunnelCertificate on tnl_a create failed: two CAs are active. archive one");
  });

  it("explains a different credentials failure in full", async () => {
    const missing = () => new TunnelsApiError({ code: "CONFIGURATION", summary: "ANTHROPIC_ORGANIZATION_ID is not set", hint: "set it" });
    await failureOf(() => inContext("Tunnel tnl_a", "read", () => Promise.reject(denied())));
    const other = await failureOf(() => inContext("Tunnel tnl_b", "read", () => Promise.reject(missing())));
    expect(other.message).toBe("Tunnel tnl_b read failed: ANTHROPIC_ORGANIZATION_ID is not set. set it");
  });
});

describe("failures leave the provider without stack frames", () => {
  it("drops the host's repeat of the message with its stack, and nothing else it logs", async () => {
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args);
    try {
      const provider = forEngine({ create: () => Promise.reject(new Error("unused")), read: () => Promise.reject(new Error("the tunnel is gone")) });
      const error = await failureOf(() => provider.read!("tnl_a", {}));
      expect(error.message).toBe("the tunnel is gone");
      expect(error.stack).toBe("Error: the tunnel is gone");
      // What the dynamic-provider host does with a failed read before answering the engine.
      console.error(`${error}: ${error.stack}`);
      console.error("fatal: something else");
      expect(logged).toEqual([["fatal: something else"]]);
    } finally {
      console.error = original;
    }
  });
});
