import { describe, expect, it } from "vitest";
import { TunnelsApiError } from "./errors";
import { resolveApiTarget, resolveBaseUrl, resolveCredentials, type EnvSource } from "./credentials";

const federation = {
  ANTHROPIC_FEDERATION_RULE_ID: "fdrl_tunnels",
  ANTHROPIC_ORGANIZATION_ID: "6f1c7a52-0000-4000-8000-00000000e001",
  ANTHROPIC_WORKSPACE_ID: "wrkspc_platform",
  ANTHROPIC_IDENTITY_TOKEN: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
};

function configurationFailure(env: EnvSource, audience: "tunnels" | "admin" = "tunnels"): TunnelsApiError {
  try {
    resolveCredentials(env, audience);
  } catch (error) {
    expect(error).toBeInstanceOf(TunnelsApiError);
    expect((error as TunnelsApiError).code).toBe("CONFIGURATION");
    return error as TunnelsApiError;
  }
  throw new Error("expected a configuration error");
}

describe("resolveCredentials", () => {
  it("uses a ready bearer from ANTHROPIC_AUTH_TOKEN", () => {
    expect(resolveCredentials({ ANTHROPIC_AUTH_TOKEN: "bearer-value" }, "tunnels")).toEqual({
      kind: "bearer",
      token: "bearer-value",
      variable: "ANTHROPIC_AUTH_TOKEN",
    });
  });

  it("builds a federation exchange from the WIF variables", () => {
    expect(resolveCredentials(federation, "tunnels")).toMatchObject({
      kind: "federation",
      ruleId: "fdrl_tunnels",
      organizationId: federation.ANTHROPIC_ORGANIZATION_ID,
      workspaceId: "wrkspc_platform",
      identityToken: { kind: "value", variable: "ANTHROPIC_IDENTITY_TOKEN" },
    });
  });

  it("reads the identity token from a file when ANTHROPIC_IDENTITY_TOKEN_FILE is set", () => {
    const { ANTHROPIC_IDENTITY_TOKEN: _, ...rest } = federation;
    const resolved = resolveCredentials({ ...rest, ANTHROPIC_IDENTITY_TOKEN_FILE: "/var/run/token" }, "tunnels");
    expect(resolved).toMatchObject({ identityToken: { kind: "file", path: "/var/run/token" } });
  });

  it("never treats ANTHROPIC_API_KEY as a credential, and says so", () => {
    const error = configurationFailure({ ANTHROPIC_API_KEY: "sk-ant-api-key-value" });
    expect(error.message).toContain("ANTHROPIC_API_KEY is set but ignored");
    expect(error.message).not.toContain("sk-ant-api-key-value");
  });

  it("ignores ANTHROPIC_API_KEY next to valid federation settings", () => {
    expect(resolveCredentials({ ...federation, ANTHROPIC_API_KEY: "sk-ant-x" }, "tunnels").kind).toBe("federation");
  });

  it.each([
    ["nothing set", {}, ["ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_FEDERATION_RULE_ID", "ANTHROPIC_ORGANIZATION_ID", "ANTHROPIC_IDENTITY_TOKEN_FILE"]],
    ["bearer and rule together", { ...federation, ANTHROPIC_AUTH_TOKEN: "b" }, ["both ANTHROPIC_AUTH_TOKEN and ANTHROPIC_FEDERATION_RULE_ID"]],
    ["organization missing", { ...federation, ANTHROPIC_ORGANIZATION_ID: "" }, ["ANTHROPIC_ORGANIZATION_ID is not set"]],
    ["identity token missing", { ...federation, ANTHROPIC_IDENTITY_TOKEN: undefined }, ["no identity token"]],
    ["identity file and value together", { ...federation, ANTHROPIC_IDENTITY_TOKEN_FILE: "/t" }, ["both ANTHROPIC_IDENTITY_TOKEN_FILE and ANTHROPIC_IDENTITY_TOKEN"]],
    ["organization not a UUID", { ...federation, ANTHROPIC_ORGANIZATION_ID: "acme" }, ["must be a UUID"]],
    ["rule id malformed", { ...federation, ANTHROPIC_FEDERATION_RULE_ID: "rule-1" }, ["must look like fdrl_"]],
    ["workspace malformed", { ...federation, ANTHROPIC_WORKSPACE_ID: "platform" }, ["must look like wrkspc_"]],
    ["identity token without a rule", { ANTHROPIC_IDENTITY_TOKEN: "x" }, ["ANTHROPIC_FEDERATION_RULE_ID is not"]],
  ])("refuses %s, naming what to set", (_, env, fragments) => {
    const error = configurationFailure(env as EnvSource);
    for (const fragment of fragments) expect(error.message).toContain(fragment);
  });

  it("reports every problem at once", () => {
    const error = configurationFailure({ ANTHROPIC_FEDERATION_RULE_ID: "fdrl_x" });
    expect(error.summary).toContain("ANTHROPIC_ORGANIZATION_ID is not set");
    expect(error.summary).toContain("no identity token");
  });

  it("never echoes an identity token or bearer in a configuration error", () => {
    const error = configurationFailure({ ...federation, ANTHROPIC_AUTH_TOKEN: "bearer-secret-value" });
    expect(error.message).not.toContain("bearer-secret-value");
    expect(error.message).not.toContain(federation.ANTHROPIC_IDENTITY_TOKEN);
  });

  it("treats empty and blank values as unset", () => {
    configurationFailure({ ANTHROPIC_AUTH_TOKEN: "  ", ANTHROPIC_FEDERATION_RULE_ID: "" });
  });

  describe("admin", () => {
    it("uses ANTHROPIC_ADMIN_AUTH_TOKEN, not the tunnels bearer", () => {
      expect(resolveCredentials({ ANTHROPIC_ADMIN_AUTH_TOKEN: "admin-b", ANTHROPIC_AUTH_TOKEN: "t" }, "admin")).toMatchObject({
        kind: "bearer",
        variable: "ANTHROPIC_ADMIN_AUTH_TOKEN",
      });
      configurationFailure({ ANTHROPIC_AUTH_TOKEN: "t" }, "admin");
    });

    it("uses the admin rule with the shared identity token, and no workspace", () => {
      const resolved = resolveCredentials({ ...federation, ANTHROPIC_ADMIN_FEDERATION_RULE_ID: "fdrl_admin" }, "admin");
      expect(resolved).toMatchObject({ kind: "federation", ruleId: "fdrl_admin", workspaceId: undefined });
    });

    it("prefers an admin-specific identity token", () => {
      const resolved = resolveCredentials(
        { ...federation, ANTHROPIC_ADMIN_FEDERATION_RULE_ID: "fdrl_admin", ANTHROPIC_ADMIN_IDENTITY_TOKEN_FILE: "/admin.jwt" },
        "admin",
      );
      expect(resolved).toMatchObject({ identityToken: { kind: "file", path: "/admin.jwt" } });
    });
  });
});

describe("resolveBaseUrl", () => {
  it("prefers the option, then ANTHROPIC_BASE_URL, then production, without a trailing slash", () => {
    expect(resolveBaseUrl({ ANTHROPIC_BASE_URL: "http://127.0.0.1:1/" }, "http://127.0.0.1:2/")).toBe("http://127.0.0.1:2");
    expect(resolveBaseUrl({ ANTHROPIC_BASE_URL: "http://127.0.0.1:1/" }, undefined)).toBe("http://127.0.0.1:1");
    expect(resolveBaseUrl({}, undefined)).toBe("https://api.anthropic.com");
  });

  it("refuses something that is not an http(s) URL", () => {
    expect(() => resolveBaseUrl({}, "not a url")).toThrow(TunnelsApiError);
    expect(() => resolveBaseUrl({}, "ftp://x")).toThrow(/https/);
  });
});

describe("resolveApiTarget", () => {
  it("is the base URL as the client resolves it, and the organization and workspace as set", () => {
    expect(resolveApiTarget({ ...federation, ANTHROPIC_BASE_URL: "http://127.0.0.1:1/" })).toEqual({
      baseUrl: "http://127.0.0.1:1",
      organizationId: federation.ANTHROPIC_ORGANIZATION_ID,
      workspaceId: "wrkspc_platform",
    });
    expect(resolveApiTarget({ ANTHROPIC_ORGANIZATION_ID: " ", ANTHROPIC_WORKSPACE_ID: "" }, "http://127.0.0.1:2")).toEqual({
      baseUrl: "http://127.0.0.1:2",
      organizationId: undefined,
      workspaceId: undefined,
    });
    expect(resolveApiTarget({}).baseUrl).toBe("https://api.anthropic.com");
  });

  it("refuses a base URL the client would refuse", () => {
    expect(() => resolveApiTarget({ ANTHROPIC_BASE_URL: "http://api.example" })).toThrow(TunnelsApiError);
  });
});
