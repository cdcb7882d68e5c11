import type { EngineEvent, OpType, PreviewOptions, Stack } from "@pulumi/pulumi/automation";
import { SERIALIZED_PROVIDER_KEY } from "../../core/schemas/engine-values";

export interface PlannedStep {
  op: OpType;
  urn: string;
  type: string;
  /** The resource name, the last URN segment. */
  name: string;
  /** Properties whose change forces replacement (the engine's `keys`). */
  replaceReasons: string[];
  /** Properties that differ (the engine's `diffs`). */
  diffs: string[];
  /**
   * Top-level inputs whose planned value differs from the recorded one: what `pulumi preview`
   * prints for a dynamic resource, whose provider can only answer changes/replaces.
   */
  changedInputs: string[];
}

export interface Plan {
  steps: PlannedStep[];
  /** Steps that change something (everything but `same` and reads). */
  changes: PlannedStep[];
  stdout: string;
  events: EngineEvent[];
}

const NO_CHANGE: ReadonlySet<OpType> = new Set<OpType>(["same", "read", "refresh"]);

function changedKeys(olds: Record<string, unknown>, news: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  keys.delete(SERIALIZED_PROVIDER_KEY);
  return [...keys].filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key])).sort();
}

function stepsFrom(events: EngineEvent[]): PlannedStep[] {
  const steps: PlannedStep[] = [];
  for (const event of events) {
    const metadata = event.resourcePreEvent?.metadata;
    if (!metadata) continue;
    steps.push({
      op: metadata.op,
      urn: metadata.urn,
      type: metadata.type,
      name: metadata.urn.split("::").pop() ?? metadata.urn,
      replaceReasons: metadata.keys ?? [],
      diffs: metadata.diffs ?? [],
      changedInputs: changedKeys(metadata.old?.inputs ?? {}, metadata.new?.inputs ?? {}),
    });
  }
  return steps;
}

/** Runs a real `pulumi preview` and returns the steps the engine planned, with replace reasons. */
export async function previewPlan(stack: Stack, options: PreviewOptions = {}): Promise<Plan> {
  const events: EngineEvent[] = [];
  const result = await stack.preview({ ...options, onEvent: (event) => events.push(event) });
  const steps = stepsFrom(events).filter((step) => step.type !== "pulumi:pulumi:Stack");
  return { steps, changes: steps.filter((step) => !NO_CHANGE.has(step.op)), stdout: result.stdout, events };
}

export function describeSteps(steps: PlannedStep[]): string {
  return steps
    .map((s) => `${s.op} ${s.name} (${s.type})${s.replaceReasons.length ? ` replace because ${s.replaceReasons.join(", ")}` : ""}${s.changedInputs.length ? ` inputs: ${s.changedInputs.join(", ")}` : ""}`)
    .join("\n");
}

/** Fails with the planned steps when a preview would change anything. */
export async function expectEmptyPlan(stack: Stack, options: PreviewOptions = {}): Promise<Plan> {
  const plan = await previewPlan(stack, options);
  if (plan.changes.length > 0) {
    throw new Error(`expected an empty plan, but the engine planned:\n${describeSteps(plan.changes)}\n\n${plan.stdout}`);
  }
  return plan;
}

/** The single planned step for a resource name, or a failure that lists what was planned. */
export function stepFor(plan: Plan, name: string): PlannedStep {
  const matches = plan.steps.filter((step) => step.name === name);
  if (matches.length === 0) throw new Error(`no step for ${name}; planned:\n${describeSteps(plan.steps)}`);
  // A replace appears as create-replacement + replace + delete-replaced; the `replace` step names it.
  return matches.find((step) => step.op === "replace") ?? matches[0]!;
}

/** The real `pulumi preview --json` document, through the Automation API's per-operation args hook. */
export async function previewJson(stack: Stack): Promise<string> {
  const workspace = stack.workspace;
  const original = workspace.serializeArgsForOp.bind(workspace);
  workspace.serializeArgsForOp = async (name: string) => [...(await original(name)), "--json"];
  try {
    return (await stack.preview()).stdout;
  } finally {
    workspace.serializeArgsForOp = original;
  }
}
