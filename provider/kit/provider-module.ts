import type * as pulumi from "@pulumi/pulumi";
import type { ResourceSchema } from "../../core/schemas/field";
import { ResourceOperationError, type ProviderOperation } from "./errors";
import { providerRuntime } from "./runtime";

/** What every `provider/<kind>.ts` module exports for the forwarding provider in state. */
export interface ProviderModule {
  provider: pulumi.dynamic.ResourceProvider;
  configure(req: pulumi.dynamic.ConfigureRequest): Promise<void>;
}

export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  providerRuntime.configure(req);
}

/** `pulumi refresh` reports a resource gone when read answers with an empty id. */
export const GONE: pulumi.dynamic.ReadResult = { id: "", props: {} };

/**
 * The engine prints a failed property's value next to the reason ("property X value {…} has a
 * problem"), which would show a private key pasted into a certificate field. Failures therefore
 * reach the engine without a property; the reason starts with the property's name instead.
 */
export function engineFailure(failure: pulumi.dynamic.CheckFailure): pulumi.dynamic.CheckFailure {
  const { property, reason } = failure;
  const named = property === "" || reason.startsWith(`${property} `) || reason.startsWith(`${property}:`) ? reason : `${property}: ${reason}`;
  return { property: "", reason: named };
}

/**
 * The provider object a `provider/<kind>` module exports for the engine. Whatever fails leaves as
 * a ResourceOperationError: a step's own (see inContext) as it is, anything else (a check that
 * could not reach the API, a refresh that could not read a file) with its message unchanged and
 * the code its cause stands for.
 */
export function forEngine(resource: Pick<ResourceSchema, "typeName">, provider: pulumi.dynamic.ResourceProvider): pulumi.dynamic.ResourceProvider {
  const { typeName } = resource;
  return {
    check: (olds, news) =>
      reportingFailures(typeName, "check", async () => {
        const result = await provider.check!(olds, news);
        return { inputs: result.inputs, failures: (result.failures ?? []).map(engineFailure) };
      }),
    diff: (id, olds, news) => reportingFailures(`${typeName} ${id}`, "diff", () => provider.diff!(id, olds, news)),
    create: (inputs) => reportingFailures(typeName, "create", () => provider.create(inputs)),
    read: (id, props) => reportingFailures(`${typeName} ${id}`, "read", () => provider.read!(id, props)),
    update: (id, olds, news) => reportingFailures(`${typeName} ${id}`, "update", () => provider.update!(id, olds, news)),
    delete: (id, props) => reportingFailures(`${typeName} ${id}`, "delete", () => provider.delete!(id, props)),
  };
}

/**
 * The engine shows a failed operation's message on the resource. For check, diff, read and
 * delete the dynamic-provider host also logs `${error}: ${error.stack}` on the stack, repeating
 * the message with frames of files a user does not have; those lines are dropped, and the error
 * leaves without frames in case anything else prints its stack.
 */
async function reportingFailures<T>(resource: string, operation: ProviderOperation, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const reported =
      error instanceof ResourceOperationError
        ? error
        : new ResourceOperationError({ resource, operation, cause: error, message: error instanceof Error ? error.message : String(error) });
    Object.defineProperty(reported, "stack", { value: `${reported.name}: ${reported.message}`, configurable: true, writable: true });
    hostLogLinesToDrop().add(`${reported}: ${reported.stack}`);
    throw reported;
  }
}

let linesToDrop: Set<string> | undefined;

function hostLogLinesToDrop(): Set<string> {
  if (!linesToDrop) {
    const lines = (linesToDrop = new Set<string>());
    const hostError = console.error.bind(console);
    console.error = (...args: unknown[]) => {
      if (args.length === 1 && typeof args[0] === "string" && lines.delete(args[0])) return;
      hostError(...args);
    };
  }
  return linesToDrop;
}
