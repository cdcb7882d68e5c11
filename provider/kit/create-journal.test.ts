import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TunnelsClient } from "../../core/api";
import { CreateJournal, journalFrom, type CreateAttempt } from "./create-journal";
import { ProviderRuntime } from "./runtime";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function journalIn(apiTarget = "https://api.example|org|wrkspc_a") {
  const dir = mkdtempSync(join(tmpdir(), "create-journal-"));
  dirs.push(dir);
  return { dir, journal: new CreateJournal(() => ({ dir, apiTarget })) };
}

const attempt: CreateAttempt = {
  resourceUrn: "urn:pulumi:dev::gateway::pulumi-nodejs:dynamic/mcp-tunnels:Tunnel::edge",
  displayName: "edge",
  startedAt: "2026-11-25T12:00:00.000Z",
  preexistingIds: ["tnl_1111111111111111111111AA"],
};

describe("CreateJournal", () => {
  it("keeps one private record per resource, replaced whole", async () => {
    const { dir, journal } = journalIn();
    expect(await journal.write(attempt)).toBe(true);
    expect(await journal.write({ ...attempt, createdId: "tnl_2222222222222222222222BB" })).toBe(true);
    expect(await journal.read(attempt.resourceUrn)).toEqual({ ...attempt, createdId: "tnl_2222222222222222222222BB" });
    const files = readdirSync(join(dir, "create-journal"));
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, "create-journal", files[0]!)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "create-journal")).mode & 0o777).toBe(0o700);
  });

  it("keeps the records of another API target apart", async () => {
    const { dir, journal } = journalIn("https://api.example|org|wrkspc_a");
    await journal.write(attempt);
    const otherWorkspace = new CreateJournal(() => ({ dir, apiTarget: "https://api.example|org|wrkspc_b" }));
    expect(await otherWorkspace.read(attempt.resourceUrn)).toBeUndefined();
  });

  it("forgets a record, and reads a missing or damaged one as none", async () => {
    const { dir, journal } = journalIn();
    await journal.write(attempt);
    await journal.forget(attempt.resourceUrn);
    expect(await journal.read(attempt.resourceUrn)).toBeUndefined();
    await journal.write(attempt);
    const [file] = readdirSync(join(dir, "create-journal"));
    writeFileSync(join(dir, "create-journal", file!), "{ half a rec");
    expect(await journal.read(attempt.resourceUrn)).toBeUndefined();
  });

  it("reports an unwritable directory instead of throwing, so a create is never failed by it", async () => {
    const { dir } = journalIn();
    writeFileSync(join(dir, "not-a-directory"), "");
    const journal = new CreateJournal(() => ({ dir: join(dir, "not-a-directory"), apiTarget: "t" }));
    expect(await journal.write(attempt)).toBe(false);
    expect(await journal.read(attempt.resourceUrn)).toBeUndefined();
  });
});

/** A provider process whose settings are exactly these (no process.env, no stack config). */
class ProcessWithSettings extends ProviderRuntime {
  constructor(private readonly settings: Record<string, string>) {
    super();
  }

  override env(): Record<string, string | undefined> {
    return { ...this.settings };
  }
}

describe("journalFrom", () => {
  const written = {
    ANTHROPIC_BASE_URL: "http://127.0.0.1:4010",
    ANTHROPIC_ORGANIZATION_ID: "6f1c7a52-0000-4000-8000-00000000e001",
    ANTHROPIC_WORKSPACE_ID: "wrkspc_a",
    ANTHROPIC_AUTH_TOKEN: "bearer-a",
  };

  it.each([
    ["the same settings", {}],
    ["the base URL with a trailing slash", { ANTHROPIC_BASE_URL: "http://127.0.0.1:4010/" }],
    ["another bearer", { ANTHROPIC_AUTH_TOKEN: "bearer-b" }],
    ["another base URL", { ANTHROPIC_BASE_URL: "http://127.0.0.1:4011" }],
    ["another organization", { ANTHROPIC_ORGANIZATION_ID: "6f1c7a52-0000-4000-8000-00000000e002" }],
    ["another workspace", { ANTHROPIC_WORKSPACE_ID: "wrkspc_b" }],
  ])("finds a record again exactly when the Tunnels client reports the same target: %s", async (_, change) => {
    const { dir } = journalIn();
    const later = { ...written, ...change, MCP_TUNNELS_CACHE_DIR: dir };
    expect(await journalFrom(new ProcessWithSettings({ ...written, MCP_TUNNELS_CACHE_DIR: dir })).write(attempt)).toBe(true);
    const sameTarget = JSON.stringify(new TunnelsClient({ env: written }).target()) === JSON.stringify(new TunnelsClient({ env: later }).target());
    expect(await journalFrom(new ProcessWithSettings(later)).read(attempt.resourceUrn)).toEqual(sameTarget ? attempt : undefined);
  });

  it("reads no record, rather than failing, for a base URL the client refuses", async () => {
    const { dir } = journalIn();
    const journal = journalFrom(new ProcessWithSettings({ ...written, ANTHROPIC_BASE_URL: "http://api.example", MCP_TUNNELS_CACHE_DIR: dir }));
    expect(await journal.read(attempt.resourceUrn)).toBeUndefined();
  });
});
