import type { IncomingHttpHeaders } from "node:http";
import { EMULATOR_FIXTURE } from "../state/fixture-ids";
import { OLDEST_ANTHROPIC_VERSION } from "../decided/constants";
import { invalidRequest } from "./errors";

function values(headers: IncomingHttpHeaders, name: string): string[] {
  const value = headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** All `anthropic-beta` values: comma-separated lists, possibly over several headers. */
export function betas(headers: IncomingHttpHeaders): string[] {
  return values(headers, "anthropic-beta")
    .flatMap((value) => value.split(","))
    .map((beta) => beta.trim())
    .filter((beta) => beta.length > 0);
}

export function requireBeta(headers: IncomingHttpHeaders, beta: string): void {
  if (!betas(headers).includes(beta)) throw invalidRequest(`anthropic-beta header must include ${beta}`);
}

export function requireAnthropicVersion(headers: IncomingHttpHeaders): void {
  const given = values(headers, "anthropic-version");
  if (given.length === 0) throw invalidRequest("anthropic-version header is required");
  const version = given[0]!.trim();
  if (given.length > 1 || !/^\d{4}-\d{2}-\d{2}$/.test(version) || version < OLDEST_ANTHROPIC_VERSION) {
    throw invalidRequest(`anthropic-version must be a version date no earlier than ${OLDEST_ANTHROPIC_VERSION}`);
  }
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The literal `default` names the organization's default workspace wherever a workspace id is taken. */
export const normalizeWorkspaceId = (id: string) => (id === "default" ? EMULATOR_FIXTURE.defaultWorkspaceId : id);
