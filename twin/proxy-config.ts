import { parseGoDuration } from "./go-duration";
import { BlockList, isIPv4 } from "node:net";
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from "yaml";

/**
 * The proxy's config.yaml as the proxy reads it. The proxy is a Go program decoding with a YAML
 * library into typed fields, so the rules and texts follow Go's: a scalar of any kind decodes
 * into a string field, a list where a map is expected fails with `cannot unmarshal !!seq into
 * map[string]string`, and unknown keys are ignored (the twin reports them as warnings, so a test
 * can see a key the proxy would silently drop).
 *
 * This module does not import the product's deploy code on purpose: the twin holds the documented
 * behaviour on its own, so the product is checked against it rather than agreeing by construction.
 */

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Applied when `upstream.allowed_ips` is absent; setting the list replaces it. */
export const DEFAULT_ALLOWED_IPS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

export type UpstreamScheme = "http" | "https";

export interface Upstream {
  scheme: UpstreamScheme;
  /** As written in the route: a DNS name or an IPv4 literal, resolved per request. */
  host: string;
  port: number;
  /** `scheme://host:port`, the route value itself. */
  origin: string;
}

export interface Route {
  /** The `routes` key: a bare subdomain (`docs`) or an exact full hostname (`docs.example.com`). */
  key: string;
  form: "subdomain" | "hostname";
  upstream: Upstream;
}

export type UpstreamIpPolicy =
  | { kind: "disabled" }
  | {
      kind: "allowlist";
      /** The RFC1918 default (the failure then reads "not a private address"), or the configured list. */
      source: "default" | "allowed_ips";
      ranges: readonly string[];
      allows(ip: string): boolean;
    };

export interface ProxyConfig {
  listenAddr: string;
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
  /** From the file, or else from `-tunnel-domain`; undefined when neither gives one. */
  tunnelDomain: string | undefined;
  tls: { certFile: string; keyFile: string };
  routes: readonly Route[];
  upstream: {
    ipPolicy: UpstreamIpPolicy;
    tls: { caFile: string | undefined; includeSystemCas: boolean };
  };
  /** What the proxy accepts silently but a test should see. */
  warnings: readonly ProxyConfigWarning[];
}

export type ProxyConfigErrorCode =
  /** The text is not YAML. */
  | "YAML_SYNTAX"
  /** A value of the wrong kind for its field (a list where a map belongs, a map for a string). */
  | "YAML_TYPE"
  | "REQUIRED"
  /** A route value that is not exactly `scheme://host:port`. */
  | "INVALID_UPSTREAM"
  /** A bare-subdomain route key with no tunnel domain to complete it. */
  | "TUNNEL_DOMAIN_REQUIRED"
  | "INVALID_LOG_LEVEL"
  | "INVALID_DURATION"
  /** An `allowed_ips` entry that is not an IPv4 address or CIDR (IPv6 included). */
  | "INVALID_ALLOWED_IP"
  /** `allowed_ips` and `disable_ip_validation` both present. */
  | "IP_OPTIONS_CONFLICT";

export class ProxyConfigError extends Error {
  override readonly name = "ProxyConfigError";

  constructor(
    readonly code: ProxyConfigErrorCode,
    message: string,
    /** The config path at fault (`routes.echo`, `upstream.allowed_ips[1]`); undefined for the whole file. */
    readonly field: string | undefined,
    readonly hint: string,
  ) {
    super(message);
  }
}

export type ProxyConfigWarningCode =
  /** A key the proxy does not know; it ignores it. */
  | "UNKNOWN_KEY"
  /** An https route with neither `ca_file` nor `include_system_cas`: every handshake will fail. */
  | "NO_UPSTREAM_TRUST_ANCHOR"
  /** `allowed_ips: []`, read as "allow nothing" (the default applies only when the key is absent). */
  | "EMPTY_ALLOWED_IPS"
  /** An `allowed_ips` entry covering every address, which turns SSRF protection off. */
  | "ALLOWS_EVERY_ADDRESS";

export interface ProxyConfigWarning {
  code: ProxyConfigWarningCode;
  field: string;
  message: string;
}

export interface LoadProxyConfigOptions {
  /** `-tunnel-domain`, as the chart passes it in managed mode. */
  tunnelDomainFlag?: string;
}

/** Parses and checks config.yaml; throws ProxyConfigError with the proxy's text on the first rule broken. */
export function loadProxyConfig(text: string, options: LoadProxyConfigOptions = {}): ProxyConfig {
  const warnings: ProxyConfigWarning[] = [];
  const raw = decode(text, warnings);
  return checkConfig(raw, options, warnings);
}

type FieldType =
  | { kind: "string" }
  | { kind: "bool" }
  | { kind: "stringList" }
  | { kind: "stringMap" }
  | { kind: "struct"; goType: string; fields: Record<string, FieldType> };

const STRING: FieldType = { kind: "string" };
const BOOL: FieldType = { kind: "bool" };

// The Go type names appear only in type errors; the proxy's are not documented, these are stand-ins.
const CONFIG_TYPE: FieldType = {
  kind: "struct",
  goType: "config.Config",
  fields: {
    listen_addr: STRING,
    log_level: STRING,
    shutdown_timeout: STRING,
    tunnel_domain: STRING,
    tls: { kind: "struct", goType: "config.TLSConfig", fields: { cert_file: STRING, key_file: STRING } },
    routes: { kind: "stringMap" },
    upstream: {
      kind: "struct",
      goType: "config.UpstreamConfig",
      fields: {
        allowed_ips: { kind: "stringList" },
        disable_ip_validation: BOOL,
        tls: { kind: "struct", goType: "config.UpstreamTLSConfig", fields: { ca_file: STRING, include_system_cas: BOOL } },
      },
    },
  },
};

/** A decoded struct: each key present in the file (null values included, as absent ones are not). */
type RawStruct = Map<string, RawValue>;
type RawValue = string | boolean | string[] | Map<string, string> | RawStruct | null;

const GO_TYPE_NAME = { string: "string", bool: "bool", stringList: "[]string", stringMap: "map[string]string" } as const;

// yaml.v3 decodes these plain or quoted strings into a typed bool field, for YAML 1.1 compatibility.
const YAML11_TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"]);
const YAML11_FALSE = new Set(["n", "N", "no", "No", "NO", "off", "Off", "OFF"]);

class Decoder {
  readonly typeErrors: string[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly warnings: ProxyConfigWarning[],
  ) {}

  decode(node: unknown, type: FieldType, field: string): RawValue {
    const resolved = isAlias(node) ? node.resolve(this.doc) : node;
    if (resolved === undefined || resolved === null) return null;
    const tag = tagOf(resolved as YamlNode);
    if (tag === "!!null") return null;
    switch (type.kind) {
      case "string":
        return isScalar(resolved) ? String(resolved.value) : this.mismatch(resolved as YamlNode, tag, GO_TYPE_NAME.string);
      case "bool":
        return this.decodeBool(resolved as YamlNode, tag);
      case "stringList": {
        if (!isSeq(resolved)) return this.mismatch(resolved as YamlNode, tag, GO_TYPE_NAME.stringList);
        return resolved.items.map((item, index) => this.decode(item, STRING, `${field}[${index}]`)).map((value) => (typeof value === "string" ? value : ""));
      }
      case "stringMap": {
        if (!isMap(resolved)) return this.mismatch(resolved as YamlNode, tag, GO_TYPE_NAME.stringMap);
        const map = new Map<string, string>();
        for (const pair of resolved.items) {
          const key = this.decode(pair.key, STRING, field);
          const value = this.decode(pair.value, STRING, `${field}.${String(key)}`);
          map.set(typeof key === "string" ? key : "", typeof value === "string" ? value : "");
        }
        return map;
      }
      case "struct": {
        if (!isMap(resolved)) return this.mismatch(resolved as YamlNode, tag, type.goType);
        const struct: RawStruct = new Map();
        for (const pair of resolved.items) {
          const key = this.decode(pair.key, STRING, field);
          const name = typeof key === "string" ? key : "";
          const path = field === "" ? name : `${field}.${name}`;
          const fieldType = type.fields[name];
          if (!fieldType) {
            this.warnings.push({ code: "UNKNOWN_KEY", field: path, message: `twin: unknown config key ignored: ${path}` });
            continue;
          }
          struct.set(name, this.decode(pair.value, fieldType, path));
        }
        return struct;
      }
    }
  }

  private decodeBool(node: YamlNode, tag: string): RawValue {
    if (!isScalar(node)) return this.mismatch(node, tag, GO_TYPE_NAME.bool);
    const value = String(node.value);
    if (tag === "!!bool") return /^(true|True|TRUE)$/.test(value);
    if (tag === "!!str" && YAML11_TRUE.has(value)) return true;
    if (tag === "!!str" && YAML11_FALSE.has(value)) return false;
    return this.mismatch(node, tag, GO_TYPE_NAME.bool);
  }

  /** Records Go's type error (yaml.v3 keeps decoding and reports them all together). */
  private mismatch(node: YamlNode, tag: string, goType: string): null {
    const line = node.range ? this.lines.linePos(node.range[0]).line : 0;
    let shown = "";
    if (isScalar(node)) {
      const value = String(node.value ?? "");
      shown = value.length > 10 ? ` \`${value.slice(0, 7)}...\`` : ` \`${value}\``;
    }
    this.typeErrors.push(`line ${line}: cannot unmarshal ${tag}${shown} into ${goType}`);
    return null;
  }
}

/** The short YAML tag Go's resolver gives a node: explicit tags win, quoted scalars are strings. */
function tagOf(node: YamlNode): string {
  if (node.tag) return node.tag.replace(/^tag:yaml\.org,2002:/, "!!");
  if (isMap(node)) return "!!map";
  if (isSeq(node)) return "!!seq";
  if (!isScalar(node) || node.type !== "PLAIN") return "!!str";
  const value = String(node.value);
  if (/^(|~|null|Null|NULL)$/.test(value)) return "!!null";
  if (/^(true|True|TRUE|false|False|FALSE)$/.test(value)) return "!!bool";
  if (/^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+)$/.test(value)) return "!!int";
  if (/^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$/.test(value) || /^([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$/.test(value)) return "!!float";
  return "!!str";
}

function decode(text: string, warnings: ProxyConfigWarning[]): RawStruct {
  const lines = new LineCounter();
  // failsafe: every scalar stays the string it was written as (`8080`, `30s`, `on`); the
  // decoder gives each its Go meaning by field type.
  const doc = parseDocument(text, { schema: "failsafe", lineCounter: lines, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0].line ?? 0;
    const reason = syntax.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw new ProxyConfigError("YAML_SYNTAX", `yaml: line ${line}: ${reason}`, undefined, "fix the YAML syntax of config.yaml");
  }
  const decoder = new Decoder(doc, lines, warnings);
  const root = decoder.decode(doc.contents, CONFIG_TYPE, "");
  if (decoder.typeErrors.length > 0) {
    throw new ProxyConfigError(
      "YAML_TYPE",
      `yaml: unmarshal errors:\n  ${decoder.typeErrors.join("\n  ")}`,
      undefined,
      "routes is a map of name to upstream (`echo: http://hello-mcp:9000`), not a list; each field takes the kind of value the reference documents",
    );
  }
  return root instanceof Map ? (root as RawStruct) : new Map();
}

const struct = (value: RawValue | undefined): RawStruct => (value instanceof Map ? (value as RawStruct) : new Map());
const text = (value: RawValue | undefined): string => (typeof value === "string" ? value : "");

function checkConfig(raw: RawStruct, options: LoadProxyConfigOptions, warnings: ProxyConfigWarning[]): ProxyConfig {
  const tlsRaw = struct(raw.get("tls"));
  const upstreamRaw = struct(raw.get("upstream"));
  const upstreamTlsRaw = struct(upstreamRaw.get("tls"));

  const listenAddr = required(text(raw.get("listen_addr")), "listen_addr", 'set listen_addr: ":8080", where cloudflared forwards');
  const certFile = required(text(tlsRaw.get("cert_file")), "tls.cert_file", "point tls.cert_file at the server certificate, e.g. /data/tls.crt");
  const keyFile = required(text(tlsRaw.get("key_file")), "tls.key_file", "point tls.key_file at the server key, e.g. /data/tls.key");
  const routeMap = raw.get("routes");
  if (!(routeMap instanceof Map) || routeMap.size === 0) {
    throw new ProxyConfigError("REQUIRED", "routes is required", "routes", "add at least one route: `<subdomain>: scheme://host:port`");
  }

  const logLevelText = text(raw.get("log_level")) || "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevelText)) {
    throw new ProxyConfigError(
      "INVALID_LOG_LEVEL",
      `invalid log_level "${logLevelText}" (must be debug, info, warn or error)`,
      "log_level",
      "use one of debug, info, warn, error",
    );
  }

  const shutdownText = text(raw.get("shutdown_timeout"));
  let shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS;
  if (shutdownText !== "") {
    try {
      shutdownTimeoutMs = Math.max(0, parseGoDuration(shutdownText));
    } catch (error) {
      throw new ProxyConfigError("INVALID_DURATION", `invalid shutdown_timeout: ${(error as Error).message}`, "shutdown_timeout", "write a Go duration such as 30s");
    }
  }

  // The file's value wins over the flag: the documented managed-mode trap is a stale file value
  // next to the injected flag breaking routing, which can only happen if the file is read first.
  const tunnelDomain = (text(raw.get("tunnel_domain")) || options.tunnelDomainFlag || "").toLowerCase() || undefined;

  const routes = [...(routeMap as Map<string, string>)].map(([key, value]) => route(key, value));
  const bare = routes.find((candidate) => candidate.form === "subdomain");
  if (bare && !tunnelDomain) {
    throw new ProxyConfigError(
      "TUNNEL_DOMAIN_REQUIRED",
      `tunnel_domain is required when routes keys are bare subdomains (route "${bare.key}")`,
      "tunnel_domain",
      "set tunnel_domain to the tunnel's assigned domain, or key the route by its full hostname",
    );
  }

  const ipPolicy = upstreamIpPolicy(upstreamRaw, warnings);
  const caFile = text(upstreamTlsRaw.get("ca_file")) || undefined;
  const includeSystemCas = upstreamTlsRaw.get("include_system_cas") === true;
  // Refusing at load would make the twin stricter than the proxy: the reference says such a proxy
  // "has no trust anchor", and the documented symptom is failed upstream verification, which is
  // what a request meets. The warning makes the cause visible before the first request.
  if (!caFile && !includeSystemCas) {
    for (const https of routes.filter((candidate) => candidate.upstream.scheme === "https")) {
      warnings.push({
        code: "NO_UPSTREAM_TRUST_ANCHOR",
        field: `routes.${https.key}`,
        message: `twin: route ${https.key} is https but neither upstream.tls.ca_file nor upstream.tls.include_system_cas is set; upstream verification will fail`,
      });
    }
  }

  return {
    listenAddr,
    logLevel: logLevelText as LogLevel,
    shutdownTimeoutMs,
    tunnelDomain,
    tls: { certFile, keyFile },
    routes,
    upstream: { ipPolicy, tls: { caFile, includeSystemCas } },
    warnings,
  };
}

function required(value: string, field: string, hint: string): string {
  if (value === "") throw new ProxyConfigError("REQUIRED", `${field} is required`, field, hint);
  return value;
}

// Exactly scheme://host:port: no path (a trailing `/` is one), no query, no user info, port mandatory.
const UPSTREAM = /^(https?):\/\/([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

function route(key: string, value: string): Route {
  const match = UPSTREAM.exec(value);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) {
    throw new ProxyConfigError(
      "INVALID_UPSTREAM",
      `route "${key}": invalid upstream (must be scheme://host:port)`,
      `routes.${key}`,
      "write the upstream as scheme://host:port with no path or trailing slash; the MCP path belongs in the client URL",
    );
  }
  return {
    key,
    form: key.includes(".") ? "hostname" : "subdomain",
    upstream: { scheme: match[1] as UpstreamScheme, host: match[2]!.toLowerCase(), port, origin: value },
  };
}

function upstreamIpPolicy(upstream: RawStruct, warnings: ProxyConfigWarning[]): UpstreamIpPolicy {
  // Presence, not value: the two are exclusive, and `disable_ip_validation: false` next to a list
  // is still both.
  if (upstream.has("allowed_ips") && upstream.has("disable_ip_validation")) {
    throw new ProxyConfigError(
      "IP_OPTIONS_CONFLICT",
      "upstream.allowed_ips and upstream.disable_ip_validation are mutually exclusive",
      "upstream",
      "keep allowed_ips with the narrowest ranges and remove disable_ip_validation",
    );
  }
  if (upstream.get("disable_ip_validation") === true) return { kind: "disabled" };
  const listed = upstream.get("allowed_ips");
  if (!Array.isArray(listed)) return allowlist("default", DEFAULT_ALLOWED_IPS);
  if (listed.length === 0) {
    warnings.push({
      code: "EMPTY_ALLOWED_IPS",
      field: "upstream.allowed_ips",
      message: "twin: upstream.allowed_ips is empty, which allows no upstream; omit the key for the RFC1918 default",
    });
  }
  listed.forEach((entry, index) => {
    if (!parseIpv4Range(entry)) {
      throw new ProxyConfigError(
        "INVALID_ALLOWED_IP",
        `invalid upstream.allowed_ips entry "${entry}" (IPv4 addresses and CIDRs only)`,
        `upstream.allowed_ips[${index}]`,
        "list IPv4 addresses or CIDRs such as 10.0.0.0/8; upstreams are dialled over IPv4 only",
      );
    }
    if (parseIpv4Range(entry)!.prefix === 0) {
      warnings.push({
        code: "ALLOWS_EVERY_ADDRESS",
        field: `upstream.allowed_ips[${index}]`,
        message: `twin: upstream.allowed_ips entry ${entry} allows every address, which disables SSRF protection`,
      });
    }
  });
  return allowlist("allowed_ips", listed);
}

function allowlist(source: "default" | "allowed_ips", ranges: readonly string[]): UpstreamIpPolicy {
  const list = new BlockList();
  for (const entry of ranges) {
    const range = parseIpv4Range(entry)!;
    list.addSubnet(range.address, range.prefix, "ipv4");
  }
  return { kind: "allowlist", source, ranges, allows: (ip) => isIPv4(ip) && list.check(ip, "ipv4") };
}

/** `10.0.0.0/8` or a single address (a /32); undefined for IPv6 and anything else. */
function parseIpv4Range(entry: string): { address: string; prefix: number } | undefined {
  const [address = "", prefix, extra] = entry.split("/");
  if (extra !== undefined || !isIPv4(address)) return undefined;
  if (prefix === undefined) return { address, prefix: 32 };
  if (!/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) return undefined;
  return { address, prefix: Number(prefix) };
}

export { parseGoDuration };
