import { describe, expect, it } from "vitest";
import { ComposeError } from "./compose-error";
import { interpolate, interpolateDocument, unsetVariableWarning } from "./compose-interpolation";

const variables: Record<string, string> = { SET: "value", EMPTY: "", OTHER: "other" };
const lookup = (name: string) => variables[name];

describe("interpolate", () => {
  it.each([
    ["$SET", "value"],
    ["${SET}", "value"],
    ["pre-${SET}-post", "pre-value-post"],
    ["$SET.suffix", "value.suffix"],
    ["${UNSET:-fallback}", "fallback"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${SET:-fallback}", "value"],
    ["${UNSET-fallback}", "fallback"],
    ["${EMPTY-fallback}", ""],
    ["${SET:+alternative}", "alternative"],
    ["${EMPTY:+alternative}", ""],
    ["${EMPTY+alternative}", "alternative"],
    ["${UNSET+alternative}", ""],
    ["${UNSET:-${OTHER}}", "other"],
    ["${UNSET:-${ALSO_UNSET:-deep}}", "deep"],
    ["${SET:?must be set}", "value"],
    ["${EMPTY?may be empty}", ""],
    ["$$SET", "$SET"],
    ["$${SET}", "${SET}"],
    ["a $$ b", "a $ b"],
    ["no variables at all", "no variables at all"],
  ])("turns %s into %j", (template, expected) => {
    expect(interpolate(template, lookup, "services.x.command")).toBe(expected);
  });

  it("makes an unset plain variable blank and records it for the warning", () => {
    const unset: string[] = [];
    expect(interpolate("token=${TUNNEL_TOKEN} $ALSO", lookup, "where", unset)).toBe("token= ");
    expect(unset).toEqual(["TUNNEL_TOKEN", "ALSO"]);
    expect(unsetVariableWarning("TUNNEL_TOKEN")).toBe('The "TUNNEL_TOKEN" variable is not set. Defaulting to a blank string.');
  });

  it.each([
    ["${UNSET:?set it in .env}", "required variable UNSET is missing a value: set it in .env"],
    ["${EMPTY:?must not be empty}", "required variable EMPTY is missing a value: must not be empty"],
    ["${UNSET?}", "required variable UNSET is missing a value"],
  ])("fails %s with the message Compose prints", (template, message) => {
    const failure = catchError(() => interpolate(template, lookup, "services.cloudflared.environment.TUNNEL_TOKEN"));
    expect(failure.code).toBe("VARIABLE_REQUIRED");
    expect(failure.message).toBe(`error while interpolating services.cloudflared.environment.TUNNEL_TOKEN: ${message}`);
  });

  it.each(["${}", "${SET", "${1X}", "${SET:x}", "$1", "cost: 5$", "$(pwd)"])("rejects %s as an invalid template without quoting it", (template) => {
    const failure = catchError(() => interpolate(template, lookup, "services.x.image"));
    expect(failure.code).toBe("INTERPOLATION_INVALID");
    expect(failure.message).toContain("services.x.image");
    expect(failure.message).not.toContain(template);
  });
});

describe("interpolateDocument", () => {
  it("substitutes values and leaves keys and non-strings alone", () => {
    const { document } = interpolateDocument({ services: { "${SET}": { environment: ["A=${SET}"], read_only: true, scale: 1 } } }, lookup);
    expect(document).toEqual({ services: { "${SET}": { environment: ["A=value"], read_only: true, scale: 1 } } });
  });

  it("fails on a required variable in any service, and names where", () => {
    const failure = catchError(() => interpolateDocument({ services: { a: { image: "x" }, b: { environment: ["T=${T:?needed}"] } } }, lookup));
    expect(failure.message).toContain("services.b.environment.[]");
  });

  it("warns once per unset name", () => {
    const { warnings } = interpolateDocument({ a: "$NOPE", b: ["${NOPE}"] }, lookup);
    expect(warnings).toEqual([unsetVariableWarning("NOPE")]);
  });
});

function catchError(action: () => unknown): ComposeError {
  try {
    action();
  } catch (error) {
    if (error instanceof ComposeError) return error;
    throw error;
  }
  throw new Error("expected a ComposeError");
}
