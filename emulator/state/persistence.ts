import type { JsonWebKey } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writePrivateFileSync } from "../../core/api/private-file";
import { STATE_FILE_FORMAT, STATE_FILE_VERSION } from "../decided/constants";
import type { State } from "./store";

export interface StateFile {
  format: typeof STATE_FILE_FORMAT;
  version: typeof STATE_FILE_VERSION;
  /** The built-in OIDC issuer's signing key, so identity tokens survive a restart. */
  oidc_private_jwk: JsonWebKey;
  state: State;
}

export class StateFileError extends Error {
  override readonly name = "StateFileError";
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`state file ${path}: ${message}`);
  }
}

export function readStateFile(path: string): StateFile | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new StateFileError(path, "is not valid JSON; move it away to start from the default fixture");
  }
  const file = parsed as Partial<StateFile> | null;
  if (!file || file.format !== STATE_FILE_FORMAT || file.version !== STATE_FILE_VERSION || !file.state || !file.oidc_private_jwk) {
    throw new StateFileError(path, `is not a version ${STATE_FILE_VERSION} emulator state file`);
  }
  return file as StateFile;
}

/**
 * A reader (or a restart after kill -9) sees either the previous file or the new one, never a torn
 * write. Synchronous so the state on disk is current before the response that reported the change
 * leaves.
 */
export function writeStateFileAtomic(path: string, file: StateFile): void {
  writePrivateFileSync(path, JSON.stringify(file));
}
