import { z } from "zod";

/** The parts of `pulumi preview --json` the plan summary reads; everything else is ignored. */
const stateSchema = z
  .object({
    type: z.string().optional(),
    inputs: z.record(z.string(), z.unknown()).optional(),
    outputs: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export const previewJsonSchema = z
  .object({
    steps: z
      .array(
        z
          .object({
            op: z.string(),
            urn: z.string(),
            oldState: stateSchema.optional(),
            newState: stateSchema.optional(),
            replaceReasons: z.array(z.string()).optional(),
            diffReasons: z.array(z.string()).optional(),
          })
          .passthrough(),
      )
      .default([]),
    changeSummary: z.record(z.string(), z.number()).optional(),
  })
  .passthrough();

export type PreviewJson = z.output<typeof previewJsonSchema>;
export type PreviewStep = PreviewJson["steps"][number];

/** `urn:pulumi:stack::project::parent$type::name` → type and name. */
export function typeAndName(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  const name = parts.at(-1) ?? urn;
  const qualifiedType = parts.at(-2) ?? "";
  return { type: qualifiedType.split("$").at(-1) ?? qualifiedType, name };
}

export function parsePreviewJson(text: string): PreviewJson {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error("the input is not JSON: pass the output of `pulumi preview --json`");
  }
  const result = previewJsonSchema.safeParse(data);
  if (!result.success) throw new Error("the input is not a `pulumi preview --json` document (no steps array)");
  return result.data;
}
