import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type * as provider from "@pulumi/pulumi/provider";
import { fieldsWhere, schemaToken, TYPE_MODULE } from "../core/schemas/field";
import { RESOURCE_REGISTRY, type ResourceKind } from "../core/schemas/registry";
import { RESOURCE_URN_INPUT } from "../provider/kit/create-journal";
import type { ProviderModule } from "../provider/kit/provider-module";
import { CONFIG_NAMESPACE, SECRET_CONFIG_KEYS } from "../provider/kit/runtime";
import { propertyDiffs, type PropertyDiff } from "./property-diff";
import { revealed, withSecrets } from "./secrets";

type Props = Record<string, unknown>;
type CustomEntry = Extract<(typeof RESOURCE_REGISTRY)[number], { component: false }>;

/** A diff with what the Node SDK's provider interface has no field for: one entry per property. */
export interface NativeDiffResult extends provider.DiffResult {
  detailedDiff: Record<string, PropertyDiff>;
}

/** The type segment of a URN: `urn:pulumi:stack::project::parent$mcp-tunnels:index:Tunnel::name`. */
export function typeOfUrn(urn: string): string {
  const qualified = urn.split("::")[2] ?? "";
  return qualified.split("$").pop() ?? qualified;
}

/** The custom kind a type token stands for, from the registry; a component or stranger has none. */
export function kindOfType(type: string): CustomEntry | undefined {
  return RESOURCE_REGISTRY.find((entry): entry is CustomEntry => !entry.component && schemaToken(entry.schema.typeName) === type);
}

/** `provider/<kind>` is the module the registry promises for every custom kind. */
function moduleOf(kind: ResourceKind): ProviderModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(`../provider/${kind}`) as ProviderModule;
}

/**
 * Today's dynamic providers, served as the `mcp-tunnels` resource provider plugin so that a
 * program in any language can declare `mcp-tunnels:index:<Type>`. Each call goes to the module of
 * the kind its URN names; values cross as plain JSON (secrets unwrapped), and outputs leave with
 * the fields the schema marks `secret`, and whatever arrived secret, marked secret again.
 */
export class NativeProvider implements provider.Provider {
  constructor(
    readonly version: string,
    private readonly schemaText: string,
    private readonly load: (kind: ResourceKind) => ProviderModule = moduleOf,
  ) {}

  async getSchema(): Promise<string> {
    return this.schemaText;
  }

  async check(urn: string, olds: Props, news: Props): Promise<provider.CheckResult> {
    const { entry, module } = this.route(urn);
    const given = revealed(news);
    // The Tunnel journals its create under its URN; the SDK class passes it, here the engine does.
    const inputs = entry.kind === "tunnel" ? { ...given.plain, [RESOURCE_URN_INPUT]: urn } : given.plain;
    const result = await module.provider.check!(revealed(olds).plain, inputs);
    return { inputs: withSecrets(result.inputs, [...given.secretKeys, ...secretFields(entry)]), failures: result.failures ?? [] };
  }

  async diff(id: string, urn: string, olds: Props, news: Props): Promise<NativeDiffResult> {
    const { entry, module } = this.route(urn);
    const recorded = revealed(olds).plain;
    const planned = revealed(news).plain;
    const result = await module.provider.diff!(id, recorded, planned);
    const replaces = result.replaces ?? [];
    const detailedDiff = result.changes === false ? {} : propertyDiffs(entry.schema.inputs.shape, recorded, planned, replaces);
    return { ...result, replaces, detailedDiff };
  }

  async create(urn: string, inputs: Props): Promise<provider.CreateResult> {
    const { entry, module } = this.route(urn);
    const given = revealed(inputs);
    const result = await module.provider.create(given.plain);
    return { id: result.id, outs: withSecrets(result.outs, [...given.secretKeys, ...secretFields(entry)]) };
  }

  async read(id: string, urn: string, props: Props): Promise<provider.ReadResult> {
    const { entry, module } = this.route(urn);
    const given = revealed(props);
    // `pulumi import` reads with the id alone; a refresh always sends the recorded state.
    const state = Object.keys(given.plain).length === 0 ? importedState(entry.kind, id) : given.plain;
    const result = await module.provider.read!(id, state);
    const secrets = [...given.secretKeys, ...secretFields(entry)];
    return { id: result.id, props: withSecrets(result.props, secrets), inputs: result.inputs === undefined ? undefined : withSecrets(result.inputs, secrets) };
  }

  async update(id: string, urn: string, olds: Props, news: Props): Promise<provider.UpdateResult> {
    const { entry, module } = this.route(urn);
    const recorded = revealed(olds);
    const planned = revealed(news);
    const result = await module.provider.update!(id, recorded.plain, planned.plain);
    return { outs: withSecrets(result.outs, [...recorded.secretKeys, ...planned.secretKeys, ...secretFields(entry)]) };
  }

  async delete(id: string, urn: string, props: Props): Promise<void> {
    const { module } = this.route(urn);
    await module.provider.delete!(id, revealed(props).plain);
  }

  /**
   * An explicit provider instance's inputs are recorded in state as this answer returns them: a
   * credential (`identityToken`, ...) leaves secret even if the program passed it in plain.
   */
  async checkConfig(news: Props): Promise<Props> {
    return withSecrets(news, SECRET_CONFIG_KEYS);
  }

  /**
   * Provider config (`mcp-tunnels:<key>`, the package's namespace) stands for the dynamic path's
   * stack config `mcpTunnels:<key>`; one runtime per process serves every kind.
   */
  async configure(variables: ReadonlyMap<string, string>): Promise<void> {
    // The engine names a provider's config variables `<package>:config:<key>`.
    const get = (key: string) => {
      const name = key.slice(`${CONFIG_NAMESPACE}:`.length);
      return variables.get(`${TYPE_MODULE}:config:${name}`) ?? variables.get(`${TYPE_MODULE}:${name}`);
    };
    const anyKind = RESOURCE_REGISTRY.find((entry): entry is CustomEntry => !entry.component)!.kind;
    await this.load(anyKind).configure({ config: { get } } as unknown as pulumi.dynamic.ConfigureRequest);
  }

  private route(urn: string): { entry: CustomEntry; module: ProviderModule } {
    const type = typeOfUrn(urn);
    const entry = kindOfType(type);
    if (!entry) throw new Error(`mcp-tunnels has no custom resource ${type}: the types are ${RESOURCE_REGISTRY.filter((e) => !e.component).map((e) => schemaToken(e.schema.typeName)).join(", ")}`);
    return { entry, module: this.load(entry.kind) };
  }
}

/**
 * What `pulumi import <type> <name> <id>` needs beyond the id to read a resource, from the id the
 * engine records for it: a Tunnel's `tnl_…` is enough; a TunnelToken's is `tnl_…/token`, the
 * one its create records, and names the tunnel.
 */
export function importedState(kind: ResourceKind, id: string): Props {
  if (kind !== "tunnel-token") return {};
  const match = /^(tnl_[^/]+)\/token$/.exec(id);
  if (!match) throw new Error(`mcp-tunnels:index:TunnelToken import id must be <tunnelId>/token (e.g. tnl_abc/token), not ${JSON.stringify(id)}`);
  return { tunnelId: match[1] };
}

function secretFields(entry: CustomEntry): string[] {
  return [...fieldsWhere(entry.schema.inputs.shape, (meta) => meta.secret === true), ...fieldsWhere(entry.schema.outputs.shape, (meta) => meta.secret === true)];
}

/** schema.json and package.json ship at the package root, two floors above dist/native/. */
export function packageRoot(from: string = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, "schema.json")) || !fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no schema.json above ${from}`);
    dir = parent;
  }
  return dir;
}
