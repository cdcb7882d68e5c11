import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadProxyConfig, parseGoDuration, ProxyConfigError, type ProxyConfigErrorCode } from "./proxy-config";

const DOMAIN = "abcd1234.tunnel.anthropic.com";

type ConfigDocument = Record<string, unknown>;

/** The documented Compose config (programmatic flow). */
const documented = (): ConfigDocument => ({
  listen_addr: ":8080",
  log_level: "info",
  shutdown_timeout: "30s",
  tunnel_domain: DOMAIN,
  tls: { cert_file: "/data/tls.crt", key_file: "/data/tls.key" },
  routes: { echo: "http://hello-mcp:9000" },
});

const render = (change: (config: ConfigDocument) => void): string => {
  const config = documented();
  change(config);
  return stringify(config);
};

function failure(text: string, options = {}): ProxyConfigError {
  try {
    loadProxyConfig(text, options);
  } catch (error) {
    if (error instanceof ProxyConfigError) return error;
    throw error;
  }
  throw new Error("the config loaded");
}

const upstream = (config: ConfigDocument) => (config.upstream ??= {}) as Record<string, unknown>;

interface BrokenRule {
  rule: string;
  text: string;
  code: ProxyConfigErrorCode;
  message: string;
}

const BROKEN_RULES: BrokenRule[] = [
  {
    rule: "routes given as a YAML list",
    text: render((config) => (config.routes = ["echo: http://hello-mcp:9000"])),
    code: "YAML_TYPE",
    message: "cannot unmarshal !!seq into map[string]string",
  },
  {
    rule: "a route value with a path",
    text: render((config) => (config.routes = { echo: "http://hello-mcp:9000/mcp" })),
    code: "INVALID_UPSTREAM",
    message: "invalid upstream (must be scheme://host:port)",
  },
  {
    rule: "a route value with a trailing slash",
    text: render((config) => (config.routes = { echo: "http://hello-mcp:9000/" })),
    code: "INVALID_UPSTREAM",
    message: "invalid upstream (must be scheme://host:port)",
  },
  {
    rule: "a route value without a port",
    text: render((config) => (config.routes = { echo: "http://hello-mcp" })),
    code: "INVALID_UPSTREAM",
    message: "invalid upstream (must be scheme://host:port)",
  },
  {
    rule: "a route value with a query",
    text: render((config) => (config.routes = { echo: "http://hello-mcp:9000?x=1" })),
    code: "INVALID_UPSTREAM",
    message: "invalid upstream (must be scheme://host:port)",
  },
  { rule: "no listen_addr", text: render((config) => delete config.listen_addr), code: "REQUIRED", message: "listen_addr is required" },
  { rule: "no tls.cert_file", text: render((config) => (config.tls = { key_file: "/data/tls.key" })), code: "REQUIRED", message: "tls.cert_file is required" },
  { rule: "no tls.key_file", text: render((config) => (config.tls = { cert_file: "/data/tls.crt" })), code: "REQUIRED", message: "tls.key_file is required" },
  { rule: "no routes", text: render((config) => delete config.routes), code: "REQUIRED", message: "routes is required" },
  {
    rule: "a bare-subdomain route key without tunnel_domain",
    text: render((config) => delete config.tunnel_domain),
    code: "TUNNEL_DOMAIN_REQUIRED",
    message: "tunnel_domain is required when routes keys are bare subdomains",
  },
  {
    rule: "a log_level outside debug/info/warn/error",
    text: render((config) => (config.log_level = "verbose")),
    code: "INVALID_LOG_LEVEL",
    message: 'invalid log_level "verbose" (must be debug, info, warn or error)',
  },
  {
    rule: "a shutdown_timeout that is not a Go duration",
    text: render((config) => (config.shutdown_timeout = "30")),
    code: "INVALID_DURATION",
    message: 'invalid shutdown_timeout: time: missing unit in duration "30"',
  },
  {
    rule: "an IPv6 CIDR in allowed_ips",
    text: render((config) => (upstream(config).allowed_ips = ["10.0.0.0/8", "fd00::/8"])),
    code: "INVALID_ALLOWED_IP",
    message: 'invalid upstream.allowed_ips entry "fd00::/8" (IPv4 addresses and CIDRs only)',
  },
  {
    rule: "allowed_ips next to disable_ip_validation, even false",
    text: render((config) => Object.assign(upstream(config), { allowed_ips: ["10.0.0.0/8"], disable_ip_validation: false })),
    code: "IP_OPTIONS_CONFLICT",
    message: "upstream.allowed_ips and upstream.disable_ip_validation are mutually exclusive",
  },
  {
    rule: "a map where a string belongs",
    text: render((config) => (config.listen_addr = { port: 8080 })),
    code: "YAML_TYPE",
    message: "cannot unmarshal !!map into string",
  },
  {
    rule: "a quoted string where a bool belongs",
    text: render((config) => (upstream(config).disable_ip_validation = "true")),
    code: "YAML_TYPE",
    message: "cannot unmarshal !!str `true` into bool",
  },
  { rule: "text that is not YAML", text: "routes: [\n", code: "YAML_SYNTAX", message: "yaml: line " },
];

describe("proxy config", () => {
  it.each(BROKEN_RULES)("refuses $rule with the proxy's error text", ({ text, code, message }) => {
    const error = failure(text);
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
  });

  it("reports a routes list with Go's line-numbered unmarshal error", () => {
    const text = ["listen_addr: ':8080'", "routes:", "  - echo: http://hello-mcp:9000"].join("\n");
    expect(failure(text).message).toBe("yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into map[string]string");
  });

  it("loads the documented Compose config into typed fields", () => {
    const config = loadProxyConfig(render(() => undefined));
    expect(config).toMatchObject({
      listenAddr: ":8080",
      logLevel: "info",
      shutdownTimeoutMs: 30_000,
      tunnelDomain: DOMAIN,
      tls: { certFile: "/data/tls.crt", keyFile: "/data/tls.key" },
      routes: [{ key: "echo", form: "subdomain", upstream: { scheme: "http", host: "hello-mcp", port: 9000, origin: "http://hello-mcp:9000" } }],
      upstream: { ipPolicy: { kind: "allowlist", source: "default" }, tls: { caFile: undefined, includeSystemCas: false } },
      warnings: [],
    });
  });

  it("defaults log_level to info and shutdown_timeout to 30s", () => {
    const config = loadProxyConfig(render((config) => (delete config.log_level, delete config.shutdown_timeout)));
    expect([config.logLevel, config.shutdownTimeoutMs]).toEqual(["info", 30_000]);
  });

  it("accepts a full-hostname route key without tunnel_domain", () => {
    const config = loadProxyConfig(render((config) => (delete config.tunnel_domain, (config.routes = { "docs.example.com": "http://docs:8000" }))));
    expect(config.routes[0]).toMatchObject({ key: "docs.example.com", form: "hostname" });
    expect(config.tunnelDomain).toBeUndefined();
  });

  it("takes tunnel_domain from -tunnel-domain when the file has none", () => {
    const config = loadProxyConfig(render((config) => delete config.tunnel_domain), { tunnelDomainFlag: DOMAIN });
    expect(config.tunnelDomain).toBe(DOMAIN);
  });

  it("keeps the file's tunnel_domain over -tunnel-domain, so a stale file value still breaks routing", () => {
    const config = loadProxyConfig(render((config) => (config.tunnel_domain = "stale.tunnel.anthropic.com")), { tunnelDomainFlag: DOMAIN });
    expect(config.tunnelDomain).toBe("stale.tunnel.anthropic.com");
  });

  it("validates upstream IPs against RFC1918 by default", () => {
    const { ipPolicy } = loadProxyConfig(render(() => undefined)).upstream;
    if (ipPolicy.kind !== "allowlist") throw new Error("validation is disabled");
    const verdicts = ["10.1.2.3", "172.31.255.255", "192.168.0.7", "172.32.0.1", "127.0.0.1", "8.8.8.8"].map((ip) => [ip, ipPolicy.allows(ip)]);
    expect(verdicts).toEqual([
      ["10.1.2.3", true],
      ["172.31.255.255", true],
      ["192.168.0.7", true],
      ["172.32.0.1", false],
      ["127.0.0.1", false],
      ["8.8.8.8", false],
    ]);
  });

  it("replaces the RFC1918 default with allowed_ips instead of extending it", () => {
    const { ipPolicy } = loadProxyConfig(render((config) => (upstream(config).allowed_ips = ["127.0.0.0/8", "203.0.113.9"]))).upstream;
    if (ipPolicy.kind !== "allowlist") throw new Error("validation is disabled");
    expect(ipPolicy.source).toBe("allowed_ips");
    expect(["127.0.0.1", "203.0.113.9", "203.0.113.10", "10.1.2.3"].map((ip) => ipPolicy.allows(ip))).toEqual([true, true, false, false]);
  });

  it("reads allowed_ips: [] as allowing nothing, and warns", () => {
    const config = loadProxyConfig(render((config) => (upstream(config).allowed_ips = [])));
    const { ipPolicy } = config.upstream;
    expect(ipPolicy.kind === "allowlist" && ipPolicy.allows("10.1.2.3")).toBe(false);
    expect(config.warnings.map((warning) => warning.code)).toEqual(["EMPTY_ALLOWED_IPS"]);
  });

  it("warns about an allowed_ips entry that covers every address", () => {
    const config = loadProxyConfig(render((config) => (upstream(config).allowed_ips = ["0.0.0.0/0"])));
    expect(config.warnings.map((warning) => warning.code)).toEqual(["ALLOWS_EVERY_ADDRESS"]);
  });

  it("turns validation off with disable_ip_validation: true", () => {
    const config = loadProxyConfig(render((config) => (upstream(config).disable_ip_validation = true)));
    expect(config.upstream.ipPolicy.kind).toBe("disabled");
  });

  it("decodes the YAML 1.1 booleans Go's decoder accepts for a bool field", () => {
    const text = `${render(() => undefined)}upstream:\n  tls:\n    include_system_cas: yes\n`;
    expect(loadProxyConfig(text).upstream.tls.includeSystemCas).toBe(true);
  });

  it("loads an https route without a trust anchor, warning that upstream verification will fail", () => {
    const config = loadProxyConfig(render((config) => (config.routes = { secure: "https://internal:8443" })));
    expect(config.warnings).toEqual([expect.objectContaining({ code: "NO_UPSTREAM_TRUST_ANCHOR", field: "routes.secure" })]);
  });

  it("loads an https route with ca_file or include_system_cas without a warning", () => {
    for (const tls of [{ ca_file: "/data/upstream-ca.pem" }, { include_system_cas: true }]) {
      const config = loadProxyConfig(render((config) => ((config.routes = { secure: "https://internal:8443" }), (upstream(config).tls = tls))));
      expect(config.warnings).toEqual([]);
    }
  });

  it("ignores unknown keys, reporting each as a warning", () => {
    const config = loadProxyConfig(
      render((config) => ((config.listen_address = ":8443"), (upstream(config).allowed_ip = ["127.0.0.0/8"]), (config.tls = { ...(config.tls as object), ca_file: "/x" }))),
    );
    expect(config.warnings.map((warning) => [warning.code, warning.field])).toEqual([
      ["UNKNOWN_KEY", "tls.ca_file"],
      ["UNKNOWN_KEY", "listen_address"],
      ["UNKNOWN_KEY", "upstream.allowed_ip"],
    ]);
    expect(config.upstream.ipPolicy).toMatchObject({ kind: "allowlist", source: "default" });
  });

  it("keeps a plain number as the string it was written as, as Go decodes it into a string field", () => {
    const config = loadProxyConfig(render((config) => (config.routes = { "8080": "http://hello-mcp:9000" })));
    expect(config.routes[0]?.key).toBe("8080");
  });
});

describe("Go durations", () => {
  it.each([
    ["30s", 30_000],
    ["1m30s", 90_000],
    ["1.5h", 5_400_000],
    ["250ms", 250],
    ["0", 0],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each([
    ["30", 'time: missing unit in duration "30"'],
    ["30sec", 'time: unknown unit "sec" in duration "30sec"'],
    ["", 'time: invalid duration ""'],
    ["s", 'time: invalid duration "s"'],
  ])("refuses %j with Go's text", (text, message) => {
    expect(() => parseGoDuration(text)).toThrow(message);
  });
});
