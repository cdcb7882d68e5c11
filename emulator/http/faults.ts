import { z } from "zod";
import { FAULT_MAX_LATENCY_MS, FAULT_MAX_RULES, FIELD_LIMITS } from "../decided/constants";

export const faultRuleSchema = z
  .strictObject({
    path_prefix: z.string().startsWith("/").max(FIELD_LIMITS.textChars).optional(),
    method: z.string().regex(/^[A-Za-z]{1,16}$/).optional(),
    status: z.number().int().min(400).max(599).optional(),
    rate: z.number().min(0).max(1),
    latency_ms: z.number().int().min(0).max(FAULT_MAX_LATENCY_MS).optional(),
    reset: z.boolean().optional(),
    after_commit: z.boolean().optional(),
    count: z.number().int().min(1).optional(),
  })
  .refine((rule) => rule.status !== undefined || rule.reset === true || rule.latency_ms !== undefined, {
    message: "a fault needs status, reset or latency_ms",
  })
  .refine((rule) => !(rule.status !== undefined && rule.reset === true), { message: "status and reset exclude each other" });

export const faultsBodySchema = z.strictObject({ rules: z.array(faultRuleSchema).max(FAULT_MAX_RULES) });

export type FaultRule = z.output<typeof faultRuleSchema>;

/** What a fired fault does to one request. */
export interface Fault {
  latencyMs: number;
  afterCommit: boolean;
  outcome: { kind: "status"; status: number } | { kind: "reset" } | { kind: "latency-only" };
}

/** Injected failures for API requests (never the control plane). */
export class Faults {
  private rules: { rule: FaultRule; remaining: number }[] = [];

  constructor(private readonly random: () => number = Math.random) {}

  set(rules: FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, remaining: rule.count ?? Number.POSITIVE_INFINITY }));
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map((entry) => entry.rule);
  }

  /** The first matching rule that fires decides; firing spends one of its `count`. */
  pick(method: string, path: string): Fault | undefined {
    for (const entry of this.rules) {
      const { rule } = entry;
      if (entry.remaining <= 0) continue;
      if (rule.path_prefix !== undefined && !path.startsWith(rule.path_prefix)) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (rule.rate < 1 && this.random() >= rule.rate) continue;
      entry.remaining -= 1;
      return {
        latencyMs: rule.latency_ms ?? 0,
        afterCommit: rule.after_commit === true,
        outcome:
          rule.status !== undefined ? { kind: "status", status: rule.status } : rule.reset ? { kind: "reset" } : { kind: "latency-only" },
      };
    }
    return undefined;
  }
}
