import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as fs from "node:fs";
import * as fsPromises from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { writePrivateFile, writePrivateFileSync } from "./private-file";

// The rename is where a crash would fall between the write and the replace: each flavour's is
// wrapped so a test can look at the directory at that moment, or make the rename fail.
vi.mock("node:fs", async (original) => {
  const actual = await original<typeof import("node:fs")>();
  return { ...actual, renameSync: vi.fn(actual.renameSync) };
});
vi.mock("node:fs/promises", async (original) => {
  const actual = await original<typeof import("node:fs/promises")>();
  return { ...actual, rename: vi.fn(actual.rename) };
});

type Rename = (from: string, to: string) => void;

/** Both flavours, each with a way to run something in place of (or before) its rename. */
const FLAVOURS = [
  {
    name: "writePrivateFile",
    write: (path: string, content: string) => writePrivateFile(path, content),
    atRename: (instead: Rename) => vi.mocked(fsPromises.rename).mockImplementationOnce(async (from, to) => instead(String(from), String(to))),
  },
  {
    name: "writePrivateFileSync",
    write: async (path: string, content: string) => writePrivateFileSync(path, content),
    atRename: (instead: Rename) => vi.mocked(fs.renameSync).mockImplementationOnce((from, to) => instead(String(from), String(to))),
  },
];

const dirs: string[] = [];
afterEach(() => {
  vi.mocked(fs.renameSync).mockReset();
  vi.mocked(fsPromises.rename).mockReset();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "private-file-"));
  dirs.push(dir);
  return dir;
}

describe.each(FLAVOURS)("$name", ({ write, atRename }) => {
  it("writes a file only its owner can read, even over one others could", async () => {
    const dir = scratch();
    const path = join(dir, "token.jwt");
    writeFileSync(path, "old");
    chmodSync(path, 0o644);
    await write(path, "new");
    expect(readFileSync(path, "utf8")).toBe("new");
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("leaves no temporary file behind once written", async () => {
    const dir = scratch();
    await write(join(dir, "record.json"), "{}");
    await write(join(dir, "record.json"), '{"again":true}');
    expect(readdirSync(dir)).toEqual(["record.json"]);
  });

  it("has the whole new content in a private sibling before it replaces anything, so a crash leaves the old file; a failed rename removes the sibling", async () => {
    const dir = scratch();
    const path = join(dir, "state.json");
    writeFileSync(path, "old");
    let atCrash: { target: string; sibling: string; siblingMode: number; inSameDirectory: boolean } | undefined;
    atRename((from) => {
      atCrash = { target: readFileSync(path, "utf8"), sibling: readFileSync(from, "utf8"), siblingMode: statSync(from).mode & 0o777, inSameDirectory: readdirSync(dir).includes(from.slice(dir.length + 1)) };
      throw Object.assign(new Error("killed"), { code: "EKILLED" });
    });
    await expect(write(path, "new")).rejects.toMatchObject({ code: "EKILLED" });
    expect(atCrash).toEqual({ target: "old", sibling: "new", siblingMode: 0o600, inSameDirectory: true });
    expect(readFileSync(path, "utf8")).toBe("old");
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("fails with the file system's error when the directory is missing, creating nothing", async () => {
    const dir = scratch();
    await expect(write(join(dir, "missing", "file"), "x")).rejects.toMatchObject({ code: "ENOENT" });
    expect(readdirSync(dir)).toEqual([]);
  });
});
