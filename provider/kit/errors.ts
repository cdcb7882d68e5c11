/**
 * The error a provider operation fails with: which resource, which operation, what the API said,
 * and the client's hint. Messages come from typed client errors, which never carry secrets.
 */
export class ResourceOperationError extends Error {
  override readonly name = "ResourceOperationError";
  constructor(
    readonly resource: string,
    readonly operation: "check" | "create" | "read" | "update" | "delete",
    override readonly cause: unknown,
  ) {
    super(`${resource} ${operation} failed: ${describe(cause)}`);
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const hint = (cause as { hint?: unknown }).hint;
    return typeof hint === "string" && hint && !cause.message.includes(hint) ? `${cause.message} (${hint})` : cause.message;
  }
  return String(cause);
}

/** Wraps a provider step so every failure names the resource and the operation. */
export async function inContext<T>(resource: string, operation: ResourceOperationError["operation"], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ResourceOperationError) throw error;
    throw new ResourceOperationError(resource, operation, error);
  }
}
