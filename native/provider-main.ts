#!/usr/bin/env node
import * as fs from "node:fs";
import * as path from "node:path";
import * as provider from "@pulumi/pulumi/provider";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import type * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { NativeProvider, packageRoot, type NativeDiffResult } from "./native-provider";

/**
 * `pulumi-resource-mcp-tunnels`: the engine starts it as the `mcp-tunnels` resource plugin.
 *
 * The Node SDK's provider server (`@pulumi/pulumi/provider`) answers diff with changes and
 * replaces only, and ignores Configure's variables, and has no CheckConfig. Its gRPC handlers for those three are replaced
 * as the service is registered, so that a preview shows each changed property with its kind
 * (`~ rotation: "1" => "2"`) provider config reaches the kinds, and a provider instance's credentials rest secret in state.
 */
type Handler = (call: { request: any }, callback: (error: unknown, response?: unknown) => void) => void;

const KINDS: Record<NativeDiffResult["detailedDiff"][string]["kind"], provproto.PropertyDiff.Kind> = {
  ADD: provproto.PropertyDiff.Kind.ADD,
  ADD_REPLACE: provproto.PropertyDiff.Kind.ADD_REPLACE,
  DELETE: provproto.PropertyDiff.Kind.DELETE,
  DELETE_REPLACE: provproto.PropertyDiff.Kind.DELETE_REPLACE,
  UPDATE: provproto.PropertyDiff.Kind.UPDATE,
  UPDATE_REPLACE: provproto.PropertyDiff.Kind.UPDATE_REPLACE,
};

export function diffResponse(result: NativeDiffResult): provproto.DiffResponse {
  const resp = new provproto.DiffResponse();
  const Changes = provproto.DiffResponse.DiffChanges;
  resp.setChanges(result.changes === true ? Changes.DIFF_SOME : result.changes === false ? Changes.DIFF_NONE : Changes.DIFF_UNKNOWN);
  resp.setReplacesList(result.replaces ?? []);
  resp.setDeletebeforereplace(result.deleteBeforeReplace ?? false);
  resp.setDiffsList(Object.keys(result.detailedDiff));
  resp.setHasdetaileddiff(true);
  const detailed = resp.getDetaileddiffMap();
  for (const [key, diff] of Object.entries(result.detailedDiff)) {
    detailed.set(key, new provproto.PropertyDiff().setKind(KINDS[diff.kind]).setInputdiff(diff.inputDiff));
  }
  return resp;
}

function handlers(native: NativeProvider, original: Record<string, Handler>): Record<string, Handler> {
  return {
    diff: (call, callback) => {
      const req = call.request as provproto.DiffRequest;
      native
        .diff(req.getId(), req.getUrn(), req.getOlds()?.toJavaScript() ?? {}, req.getNews()?.toJavaScript() ?? {})
        .then((result) => callback(null, diffResponse(result)))
        .catch((error: unknown) => callback(error));
    },
    checkConfig: (call, callback) => {
      const req = call.request as provproto.CheckRequest;
      native
        .checkConfig(req.getNews()?.toJavaScript() ?? {})
        .then((inputs) => callback(null, new provproto.CheckResponse().setInputs(sdkOwn<typeof structproto>("google-protobuf/google/protobuf/struct_pb").Struct.fromJavaScript(inputs as Record<string, structproto.JavaScriptValue>))))
        .catch((error: unknown) => callback(error));
    },
    configure: (call, callback) => {
      const variables = new Map((call.request as provproto.ConfigureRequest).getVariablesMap().toArray());
      native.configure(variables).then(
        () => original.configure!.call(original, call, callback),
        (error: unknown) => callback(error),
      );
    },
  };
}

/** A module as the SDK loads it (its own grpc-js and google-protobuf, which this package does not depend on). */
function sdkOwn<T>(name: string): T {
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve(name, { paths: [sdkDir] })) as T;
}

/** Registers the native handlers on the gRPC server the SDK builds. */
function overrideOnRegistration(native: NativeProvider): void {
  const grpc = sdkOwn<{ Server: { prototype: { addService(service: unknown, impl: object): void } } }>("@grpc/grpc-js");
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service: unknown, impl: object) {
    const own = impl as Record<string, Handler>;
    const bound = Object.fromEntries(Object.entries(handlers(native, own)));
    const merged = new Proxy(impl, { get: (target, key, receiver) => (typeof key === "string" && key in bound ? bound[key] : Reflect.get(target, key, receiver)) });
    return addService.call(this, service, merged);
  };
}

const USAGE = `usage: pulumi-resource-mcp-tunnels [ENGINE_ADDRESS]

The mcp-tunnels resource plugin. The Pulumi engine starts it (it finds it on PATH) and talks to it
over gRPC; it is not run by hand. Programs declare its types as mcp-tunnels:index:<Type> (see
schema.json).

  -h, --help      print this help and exit
  -v, --version   print the version and exit
`;

function main(): Promise<void> {
  const root = packageRoot();
  const { version } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
  // The engine passes its address and its own flags (--logtostderr, -v=N, --tracing …), never these.
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    process.stdout.write(USAGE);
    return Promise.resolve();
  }
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
    process.stdout.write(`${version}\n`);
    return Promise.resolve();
  }
  const native = new NativeProvider(version, fs.readFileSync(path.join(root, "schema.json"), "utf8"));
  overrideOnRegistration(native);
  return provider.main(native, args);
}

if (require.main === module) void main();
