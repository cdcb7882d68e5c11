export type ComposeErrorCode =
  /** No compose file in the project directory, or the named one does not exist. */
  | "FILE_NOT_FOUND"
  /** The file is not YAML, or not a compose file Docker would accept (unknown key, wrong type). */
  | "FILE_INVALID"
  /** `${VAR:?message}` / `${VAR?message}` met an unset (or empty) variable. */
  | "VARIABLE_REQUIRED"
  /** A `$` that is neither `$$`, `$NAME` nor a well-formed `${...}`. */
  | "INTERPOLATION_INVALID"
  /** An `env_file` entry (or the project's `.env`) cannot be read or parsed. */
  | "ENV_FILE_INVALID"
  /** A service named on the command line, or referenced by another service, does not exist. */
  | "SERVICE_UNKNOWN"
  /** `depends_on` / `network_mode: service:` form a cycle. */
  | "DEPENDENCY_CYCLE"
  /** No twin is registered for the image (or for its overridden entrypoint). */
  | "IMAGE_UNKNOWN"
  /** A compose feature the runner does not model, rejected instead of silently ignored. */
  | "UNSUPPORTED"
  /** The container could not be created or its process could not start. */
  | "START_FAILED"
  /** `up` started some services but not all of them. */
  | "UP_FAILED"
  /** A bounded wait (for a log line, for an exit) ran out. */
  | "WAIT_TIMEOUT"
  /** The container exited for good before the log line waited for appeared. */
  | "CONTAINER_EXITED";

/**
 * Every failure of the compose runner. Messages follow Docker Compose's wording where the
 * operator would see one, so a test can assert on what a human would read; they never repeat
 * an environment value, since `.env` holds the tunnel token.
 */
export class ComposeError extends Error {
  override readonly name = "ComposeError";

  constructor(
    readonly code: ComposeErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
