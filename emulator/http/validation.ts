import type { z } from "zod";
import { invalidRequest } from "./errors";

/** Names the field and the rule it broke; zod's messages never repeat the input value. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidRequest(formatIssues(result.error.issues));
  return result.data;
}

/** For endpoints that take no body: an empty body or `{}`, nothing else. */
export function requireNoFields(body: Record<string, unknown> | undefined): void {
  const fields = Object.keys(body ?? {});
  if (fields.length > 0) throw invalidRequest(`body: this endpoint takes no fields (got ${fields.map((field) => JSON.stringify(field)).join(", ")})`);
}
