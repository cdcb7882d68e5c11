import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { expectEmptyPlan, previewPlan, stepFor } from "../harness/plan";
import { createHermeticStack } from "../harness/stack";

// The provider runs in the engine's own provider process; it writes where it ran so the test can
// prove that a real engine, not a mock, drove it.
const markerProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    require("node:fs").appendFileSync(inputs.markerFile, `create ${process.pid}\n`);
    return { id: `smoke-${inputs.value}`, outs: { ...inputs, providerPid: process.pid } };
  },
  async diff(_id, olds, news) {
    return { changes: olds.value !== news.value };
  },
  async update(_id, _olds, news) {
    require("node:fs").appendFileSync(news.markerFile, `update ${process.pid}\n`);
    return { outs: { ...news, providerPid: process.pid } };
  },
  async delete(_id, props) {
    require("node:fs").appendFileSync(props.markerFile, `delete ${process.pid}\n`);
  },
};

class MarkerResource extends pulumi.dynamic.Resource {
  declare readonly providerPid: pulumi.Output<number>;
  constructor(name: string, props: { value: string; markerFile: string }) {
    super(markerProvider, name, { ...props, providerPid: undefined });
  }
}

describe("the real Pulumi engine, offline", () => {
  it("previews, creates, shows no changes, plans an update and destroys a dynamic resource", async () => {
    let value = "one";
    const { stack, dir } = await createHermeticStack({
      program: async () => {
        const markerFile = path.join(dir, "marker.log");
        const resource = new MarkerResource("smoke", { value, markerFile });
        return { providerPid: resource.providerPid };
      },
    });
    const markerFile = path.join(dir, "marker.log");

    const version = stack.workspace.pulumiVersion;
    expect(version).toBe("3.274.1");

    const firstPlan = await previewPlan(stack);
    expect(stepFor(firstPlan, "smoke").op).toBe("create");
    expect(fs.existsSync(markerFile)).toBe(false);

    const up = await stack.up();
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges?.create).toBe(2);
    const providerPid = up.outputs.providerPid?.value as number;
    expect(providerPid).toBeGreaterThan(0);
    expect(providerPid).not.toBe(process.pid);
    expect(fs.readFileSync(markerFile, "utf8")).toBe(`create ${providerPid}\n`);

    await expectEmptyPlan(stack);

    value = "two";
    const changed = await previewPlan(stack);
    const step = stepFor(changed, "smoke");
    expect(step.op).toBe("update");
    expect(step.changedInputs).toEqual(["value"]);

    await stack.up();
    const destroyed = await stack.destroy();
    expect(destroyed.summary.result).toBe("succeeded");
    const log = fs.readFileSync(markerFile, "utf8").trim().split("\n").map((line) => line.split(" ")[0]);
    expect(log).toEqual(["create", "update", "delete"]);

    const exported = await stack.exportStack();
    expect(exported.deployment.resources ?? []).toHaveLength(0);
  });
});
