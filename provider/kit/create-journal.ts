import { mkdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { resolveApiTarget } from "../../core/api/credentials";
import { writePrivateFile } from "../../core/api/private-file";
import { cacheDirectory, sha256Hex } from "../../core/api/token-cache-path";
import { providerRuntime, type ProviderRuntime } from "./runtime";

/**
 * The hidden input a resource class derives for a journaled create: the resource's own URN, which
 * keys its journal record. Not a schema field: users never set it, and a change (an alias, a
 * renamed stack) plans nothing.
 */
export const RESOURCE_URN_INPUT = "resourceUrn";

/**
 * One create of a resource through an API that is not idempotent, as the provider process left it
 * on disk: written before the request goes out, completed once the API answered.
 *
 * The engine records a created resource only after the provider returns. If the engine is killed
 * in between (or while the request is in flight), the object exists but no state names it, and the
 * next `up` (after `pulumi refresh --clear-pending-creates`) creates the resource again. This record
 * is what lets that second create find the first object instead of making a duplicate.
 */
export interface CreateAttempt {
  /** The resource whose create this was. */
  resourceUrn: string;
  /** What was asked for; a later create asking for something else does not recover this attempt. */
  displayName: string;
  startedAt: string;
  /** Objects that already matched the request before it was sent: never the attempt's result. */
  preexistingIds: string[];
  /** Set once the API answered (or a recovery found the object). */
  createdId?: string;
}

/** Where the journal lives and which API it speaks about, resolved when the provider needs it. */
export interface JournalLocation {
  dir: string;
  /** Base URL, organization and workspace: the same URN against another workspace is another object. */
  apiTarget: string;
}

/**
 * A small per-user directory of create attempts (mode 0700, files 0600), one file per resource and
 * API target. Failing to read or write it never fails a create: recovery is then just unavailable,
 * as it was before the journal existed.
 */
export class CreateJournal {
  constructor(private readonly locate: () => JournalLocation) {}

  async read(resourceUrn: string): Promise<CreateAttempt | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(resourceUrn), "utf8");
    } catch {
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as Partial<CreateAttempt>;
      if (parsed.resourceUrn !== resourceUrn || typeof parsed.displayName !== "string" || typeof parsed.startedAt !== "string") return undefined;
      return { preexistingIds: [], ...parsed } as CreateAttempt;
    } catch {
      return undefined;
    }
  }

  /** Replaces the record atomically, so a reader never sees half of one. */
  async write(attempt: CreateAttempt): Promise<boolean> {
    const path = this.pathOf(attempt.resourceUrn);
    try {
      await mkdir(this.dir(), { recursive: true, mode: 0o700 });
      await writePrivateFile(path, JSON.stringify(attempt));
      return true;
    } catch {
      return false;
    }
  }

  async forget(resourceUrn: string): Promise<void> {
    await unlink(this.pathOf(resourceUrn)).catch(() => undefined);
  }

  private dir(): string {
    return join(this.locate().dir, "create-journal");
  }

  private pathOf(resourceUrn: string): string {
    const { apiTarget } = this.locate();
    return join(this.dir(), `${sha256Hex(`${apiTarget}|${resourceUrn}`)}.json`);
  }
}

/**
 * The journal of the provider process: the per-user cache directory, keyed by the API target the
 * process's Tunnels client resolves from the same settings (`TunnelsClient.target()`). Asked of
 * the resolution, not of a client: building one loads the SDK, which a diff otherwise never needs.
 */
export function journalFrom(runtime: ProviderRuntime = providerRuntime): CreateJournal {
  return new CreateJournal(() => {
    const env = runtime.env();
    const { baseUrl, organizationId, workspaceId } = resolveApiTarget(env);
    return { dir: cacheDirectory(env), apiTarget: [baseUrl, organizationId ?? "", workspaceId ?? ""].join("|") };
  });
}
