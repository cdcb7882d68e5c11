import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";

/**
 * A sibling of `path` that only this call writes: the process id and a random part keep two
 * writers of one file (two provider processes sharing a cache) from writing into each other's.
 * Same directory, so the rename is atomic.
 */
function temporarySibling(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
}

/**
 * Replaces `path` with `content` as a file only its owner can read (mode 0600): written whole to
 * a temporary sibling, flushed to disk, then renamed over `path`. A reader, or a restart after a
 * crash at any moment, finds the previous file or the new one, never part of one. The directory
 * must exist; the caller decides what it is. On failure the temporary file is removed and the
 * error is the file system's.
 */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const temporary = temporarySibling(path);
  try {
    const handle = await open(temporary, "w", 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** writePrivateFile for a caller that must have the file on disk before it goes on (the emulator answers only after). */
export function writePrivateFileSync(path: string, content: string): void {
  const temporary = temporarySibling(path);
  try {
    const handle = openSync(temporary, "w", 0o600);
    try {
      writeFileSync(handle, content);
      fsyncSync(handle);
    } finally {
      closeSync(handle);
    }
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Never created, or already renamed.
    }
    throw error;
  }
}
