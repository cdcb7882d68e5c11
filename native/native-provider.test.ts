import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { schemaToken } from "../core/schemas/field";
import { RESOURCE_REGISTRY } from "../core/schemas/registry";
import type { ProviderModule } from "../provider/kit/provider-module";
import { kindOfType, NativeProvider, packageRoot, typeOfUrn } from "./native-provider";
import { secretValue } from "./secrets";

const urn = (type: string, name = "r") => `urn:pulumi:test::proj::${type}::${name}`;
const schemaText = fs.readFileSync(path.join(packageRoot(), "schema.json"), "utf8");

/** A provider module that records what it was handed and answers like a kind would. */
function recordingModule(calls: { op: string; args: unknown[] }[], configured: unknown[] = []): ProviderModule {
  const record = (op: string) => (...args: unknown[]) => {
    calls.push({ op, args });
    return Promise.resolve(undefined as never);
  };
  const provider: pulumi.dynamic.ResourceProvider = {
    check: async (olds, news) => (calls.push({ op: "check", args: [olds, news] }), { inputs: news, failures: [] }),
    diff: async (id, olds, news) => (calls.push({ op: "diff", args: [id, olds, news] }), { changes: true, replaces: [] }),
    create: async (inputs) => (calls.push({ op: "create", args: [inputs] }), { id: "tok", outs: { ...inputs, token: "t0k3n", tokenId: "tkn_1" } }),
    read: async (id, props) => (calls.push({ op: "read", args: [id, props] }), { id, props, inputs: { tunnelId: props.tunnelId } }),
    update: async (id, olds, news) => (calls.push({ op: "update", args: [id, olds, news] }), { outs: { ...olds, ...news, token: "n3w" } }),
    delete: record("delete") as never,
  };
  return { provider, configure: async (req) => void configured.push(req.config.get("mcpTunnels:baseUrl")) };
}

describe("the native provider", () => {
  it("knows every custom kind of the registry by the type token schema.json names it with", () => {
    const types = Object.keys((JSON.parse(schemaText) as { resources: object }).resources);
    for (const entry of RESOURCE_REGISTRY.filter((e) => !e.component)) {
      expect(types).toContain(schemaToken(entry.schema.typeName));
      expect(kindOfType(typeOfUrn(urn(schemaToken(entry.schema.typeName))))?.kind).toBe(entry.kind);
    }
    expect(kindOfType("mcp-tunnels:index:TunnelDeployment")).toBeUndefined();
  });

  it("reads the type of a URN whose resource has a parent", () => {
    expect(typeOfUrn("urn:pulumi:s::p::mcp-tunnels:index:TunnelDeployment$mcp-tunnels:index:TunnelToken::t")).toBe("mcp-tunnels:index:TunnelToken");
  });

  it("refuses a type it does not serve, naming the ones it does", async () => {
    const native = new NativeProvider("0.0.0", schemaText, () => recordingModule([]));
    await expect(native.check(urn("mcp-tunnels:index:Widget"), {}, {})).rejects.toThrow(/no custom resource mcp-tunnels:index:Widget: the types are .*mcp-tunnels:index:TunnelToken/);
  });

  it("hands the kind's provider plain values and returns its secret fields, and whatever came secret, as secrets", async () => {
    const calls: { op: string; args: unknown[] }[] = [];
    const native = new NativeProvider("0.0.0", schemaText, () => recordingModule(calls));
    const token = urn("mcp-tunnels:index:TunnelToken");
    const created = await native.create(token, { tunnelId: "tnl_1", rotation: "1", reason: secretValue("quiet") });
    expect(calls[0]!.args[0]).toEqual({ tunnelId: "tnl_1", rotation: "1", reason: "quiet" });
    expect(created.outs).toMatchObject({ token: secretValue("t0k3n"), reason: secretValue("quiet"), tokenId: "tkn_1", tunnelId: "tnl_1" });

    const updated = await native.update("tok", token, { ...created.outs }, { tunnelId: "tnl_1", rotation: "2" });
    expect(calls[1]!.args[1]).toMatchObject({ token: "t0k3n", reason: "quiet" });
    expect(updated.outs).toMatchObject({ token: secretValue("n3w"), rotation: "2" });
  });

  it("answers diff with a detailedDiff per changed input, and none when nothing changed", async () => {
    const calls: { op: string; args: unknown[] }[] = [];
    const module = recordingModule(calls);
    const native = new NativeProvider("0.0.0", schemaText, () => module);
    const token = urn("mcp-tunnels:index:TunnelToken");
    const diff = await native.diff("tok", token, { tunnelId: "tnl_1", rotation: "1", token: secretValue("t") }, { tunnelId: "tnl_1", rotation: "2" });
    expect(diff.detailedDiff).toEqual({ rotation: { kind: "UPDATE", inputDiff: true } });
    module.provider.diff = async () => ({ changes: false, replaces: [] });
    expect((await native.diff("tok", token, { rotation: "1" }, { rotation: "2" })).detailedDiff).toEqual({});
  });

  it("reads an import, the id alone, with the state the id names: a TunnelToken's tunnel from tnl_…/token, nothing more for a Tunnel", async () => {
    const calls: { op: string; args: unknown[] }[] = [];
    const native = new NativeProvider("0.0.0", schemaText, () => recordingModule(calls));
    await native.read("tnl_1/token", urn("mcp-tunnels:index:TunnelToken"), {});
    await native.read("tnl_1", urn("mcp-tunnels:index:Tunnel"), {});
    await native.read("tnl_1/token", urn("mcp-tunnels:index:TunnelToken"), { tunnelId: "tnl_2", tokenId: "tkn_1" });
    expect(calls.map((call) => call.args)).toEqual([["tnl_1/token", { tunnelId: "tnl_1" }], ["tnl_1", {}], ["tnl_1/token", { tunnelId: "tnl_2", tokenId: "tkn_1" }]]);
    await expect(native.read("tkn_1", urn("mcp-tunnels:index:TunnelToken"), {})).rejects.toThrow(/import id must be <tunnelId>\/token/);
  });

  it("passes a Tunnel its URN, which it journals its create under", async () => {
    const calls: { op: string; args: unknown[] }[] = [];
    const native = new NativeProvider("0.0.0", schemaText, () => recordingModule(calls));
    const tunnel = urn("mcp-tunnels:index:Tunnel", "edge");
    await native.check(tunnel, {}, { displayName: "edge" });
    expect(calls[0]!.args[1]).toEqual({ displayName: "edge", resourceUrn: tunnel });
  });

  it("answers CheckConfig with an explicit provider's credentials secret, passed in plain or not, and the rest as given", async () => {
    const native = new NativeProvider("0.0.0", schemaText, () => recordingModule([]));
    const checked = await native.checkConfig({ workspaceId: "wrkspc_platform", identityToken: "eyJ.plain", authToken: secretValue("sk") });
    expect(checked).toEqual({ workspaceId: "wrkspc_platform", identityToken: secretValue("eyJ.plain"), authToken: secretValue("sk") });
  });

  it("gives provider config in the package's namespace to the kinds as the dynamic path's mcpTunnels config", async () => {
    const configured: unknown[] = [];
    const native = new NativeProvider("0.0.0", schemaText, () => recordingModule([], configured));
    await native.configure(new Map([["mcp-tunnels:config:baseUrl", "http://127.0.0.1:1"]]));
    expect(configured).toEqual(["http://127.0.0.1:1"]);
  });
});
