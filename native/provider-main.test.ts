import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import { describe, expect, it } from "vitest";
import { diffResponse } from "./provider-main";

describe("the plugin's diff response", () => {
  it("carries each property's kind in detailedDiff and says it has one, so the engine prints it instead of guessing", () => {
    const resp = diffResponse({ changes: true, replaces: ["displayName"], detailedDiff: { displayName: { kind: "UPDATE_REPLACE", inputDiff: true }, rotation: { kind: "UPDATE", inputDiff: true } } });
    expect(resp.getChanges()).toBe(provproto.DiffResponse.DiffChanges.DIFF_SOME);
    expect(resp.getHasdetaileddiff()).toBe(true);
    expect(resp.getReplacesList()).toEqual(["displayName"]);
    expect(resp.getDiffsList()).toEqual(["displayName", "rotation"]);
    const detailed = resp.getDetaileddiffMap();
    expect(detailed.get("displayName")?.getKind()).toBe(provproto.PropertyDiff.Kind.UPDATE_REPLACE);
    expect(detailed.get("rotation")?.getKind()).toBe(provproto.PropertyDiff.Kind.UPDATE);
    expect(detailed.get("rotation")?.getInputdiff()).toBe(true);
  });

  it("answers no change as DIFF_NONE with an empty detailedDiff", () => {
    const resp = diffResponse({ changes: false, replaces: [], detailedDiff: {} });
    expect(resp.getChanges()).toBe(provproto.DiffResponse.DiffChanges.DIFF_NONE);
    expect(resp.getDetaileddiffMap().getLength()).toBe(0);
  });
});
