import type * as pulumi from "@pulumi/pulumi";
import { OffsetClock, systemClock, type Clock } from "./clock";

/**
 * Stack config `mcpTunnels:<key>` → the environment variable it stands for. Config wins over the
 * environment, so one stack can target another organization than the shell it runs in.
 */
export const CONFIG_TO_ENV = {
  baseUrl: "ANTHROPIC_BASE_URL",
  federationRuleId: "ANTHROPIC_FEDERATION_RULE_ID",
  organizationId: "ANTHROPIC_ORGANIZATION_ID",
  workspaceId: "ANTHROPIC_WORKSPACE_ID",
  identityTokenFile: "ANTHROPIC_IDENTITY_TOKEN_FILE",
  identityToken: "ANTHROPIC_IDENTITY_TOKEN",
  authToken: "ANTHROPIC_AUTH_TOKEN",
  adminAuthToken: "ANTHROPIC_ADMIN_AUTH_TOKEN",
  adminFederationRuleId: "ANTHROPIC_ADMIN_FEDERATION_RULE_ID",
  revealOnRefresh: "MCP_TUNNELS_REVEAL_ON_REFRESH",
  clockOffsetSeconds: "MCP_TUNNELS_CLOCK_OFFSET_SECONDS",
} as const;
export type ConfigKey = keyof typeof CONFIG_TO_ENV;
/** The settings that are credentials: kept secret wherever they are recorded (a provider's inputs in state). */
export const SECRET_CONFIG_KEYS: readonly ConfigKey[] = ["identityToken", "authToken", "adminAuthToken"];
export const CONFIG_NAMESPACE = "mcpTunnels";

/** What one provider process knows about its environment: stack config over process env. */
export class ProviderRuntime {
  private config: Partial<Record<ConfigKey, string>> = {};

  configure(req: pulumi.dynamic.ConfigureRequest): void {
    const config: Partial<Record<ConfigKey, string>> = {};
    for (const key of Object.keys(CONFIG_TO_ENV) as ConfigKey[]) {
      const value = req.config.get(`${CONFIG_NAMESPACE}:${key}`);
      if (typeof value === "string" && value !== "") config[key] = value;
    }
    this.config = config;
  }

  /** The environment the API clients read credentials from, resolved now, never cached. */
  env(): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = { ...process.env };
    for (const [key, name] of Object.entries(CONFIG_TO_ENV)) {
      const value = this.config[key as ConfigKey];
      if (value !== undefined) env[name] = value;
    }
    return env;
  }

  setting(key: ConfigKey): string | undefined {
    return this.env()[CONFIG_TO_ENV[key]];
  }

  clock(): Clock {
    const offset = Number(this.setting("clockOffsetSeconds") ?? 0);
    return Number.isFinite(offset) && offset !== 0 ? new OffsetClock(systemClock, offset) : systemClock;
  }
}

/** One per provider process: the engine configures it once, every resource kind reads it. */
export const providerRuntime = new ProviderRuntime();

/** The clock the engine's provider process uses: resolved on each reading, after configure. */
export const runtimeClock: Clock = { now: () => providerRuntime.clock().now() };
