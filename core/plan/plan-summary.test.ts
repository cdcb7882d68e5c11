import { describe, expect, it } from "vitest";
import { TYPE_MODULE } from "../schemas/field";
import { summarizePlan } from "./plan-summary";
import { parsePreviewJson } from "./preview-json";

const DAY = 86_400_000;
const lastRotation = Date.parse("2026-11-01T00:00:00.000Z");
const at = (ms: number) => new Date(ms).toISOString();
const tunnelId = "tnl_5KuEEGkd3XqZ2rW8aP1sYc7T";

/** One TunnelToken update step, as `pulumi preview --json` prints it. */
function tokenUpdate(olds: Record<string, unknown>, news: Record<string, unknown>): string {
  return summarizePlan(
    parsePreviewJson(
      JSON.stringify({
        steps: [
          {
            op: "update",
            urn: `urn:pulumi:dev::p::pulumi-nodejs:dynamic/${TYPE_MODULE}:TunnelToken::prod-token`,
            oldState: { inputs: { tunnelId, ...olds } },
            newState: { inputs: { tunnelId, ...news } },
          },
        ],
      }),
    ),
  );
}

const scheduled = { rotation: "1", rotateEveryDays: 30, rotateAt: at(lastRotation + 30 * DAY) };

describe("the plan summary's reasons for a token update", () => {
  it("names only the changed rotation when a manual rotation restarts the schedule before it was due", () => {
    const now = lastRotation + 10 * DAY;
    const summary = tokenUpdate(scheduled, { ...scheduled, rotation: "2", rotateAt: at(now + 30 * DAY) });
    expect(summary).toContain("`rotation` changed `1` → `2`");
    expect(summary).not.toContain("scheduled rotation");
  });

  it("gives the schedule as the reason, with the moment it came due, when the period had ended", () => {
    const now = lastRotation + 31 * DAY;
    const summary = tokenUpdate(scheduled, { ...scheduled, rotateAt: at(now + 30 * DAY) });
    expect(summary).toContain(`the scheduled rotation was due at \`${at(lastRotation + 30 * DAY)}\` (every \`30\` days); next at \`${at(now + 30 * DAY)}\``);
    expect(summary).not.toContain("`rotation` changed");
  });

  it("gives both reasons when a manual rotation lands after the schedule came due", () => {
    const now = lastRotation + 40 * DAY;
    const summary = tokenUpdate(scheduled, { ...scheduled, rotation: "2", rotateAt: at(now + 30 * DAY) });
    expect(summary).toContain("`rotation` changed `1` → `2`; the scheduled rotation was due at");
  });

  it("plans no rotation when only the period grows and nothing is due", () => {
    const summary = tokenUpdate(scheduled, { ...scheduled, rotateEveryDays: 60, rotateAt: at(lastRotation + 60 * DAY) });
    expect(summary).toContain("Token settings of prod-token change (rotateAt, rotateEveryDays); no rotation.");
  });

  it("counts a shortened period that is already over as the schedule coming due", () => {
    const now = lastRotation + 15 * DAY;
    const summary = tokenUpdate(scheduled, { ...scheduled, rotateEveryDays: 10, rotateAt: at(now + 10 * DAY) });
    expect(summary).toContain(`the scheduled rotation was due at \`${at(lastRotation + 10 * DAY)}\` (every \`10\` days)`);
  });
});
