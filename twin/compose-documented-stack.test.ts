import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { PRODUCTION_BASE_URL } from "../core/contract/tunnels-api";
import { EMULATOR_FIXTURE } from "../emulator/index";
import { TestEmulator } from "../test/harness/emulator";
import { DOCUMENTED_IMAGE_REPOSITORIES, SETUP_ENTRYPOINT } from "./compose-images";
import { projectDir } from "./compose-project-dir.test-support";
import { ComposeProject, RESTART_LIMIT } from "./compose-runner";
import { expectDockerComposeAccepts } from "./docker-compose-check.test-support";
import { loopbackAddress, startMcpUpstream, type McpUpstream } from "./mcp-upstream";
import { startProxy } from "./proxy";
import { createSetup } from "./setup";

// The documented Compose stack (programmatic flow), run with the real twins: setup against the
// emulator's API, cloudflared against its edge, the proxy in front of a real MCP upstream. Each
// trap of the deployment guide is the documented file with one thing changed.

const PROXY_IMAGE = `${DOCUMENTED_IMAGE_REPOSITORIES.proxy}@sha256:efb27b299d627e4134815663cb8896641eeaee025d734c0f695582b4df38f013`;
const CONNECTOR_IMAGE = `${DOCUMENTED_IMAGE_REPOSITORIES.connector}@sha256:6b599ca3e974349ead3286d178da61d291961182ec3fe9c505e1dd02c8ac31b0`;
const CONTAINER_UID = 65532;
const HARDENING = { user: `${CONTAINER_UID}:${CONTAINER_UID}`, read_only: true, security_opt: ["no-new-privileges:true"], cap_drop: ["ALL"] };
const LONG_RUNNING = { restart: "unless-stopped", stop_grace_period: "30s", logging: { options: { "max-size": "10m", "max-file": "3" } } };
const SETUP_PASS_THROUGH = ["TUNNEL_ID", "ANTHROPIC_FEDERATION_RULE_ID", "ANTHROPIC_ORGANIZATION_ID", "ANTHROPIC_WORKSPACE_ID", "ANTHROPIC_IDENTITY_TOKEN"];
const CONNECTIONS = 4;

type Services = Record<string, Record<string, unknown>>;

function documentedServices(tokenVersion = 1): Services {
  return {
    setup: {
      image: PROXY_IMAGE,
      entrypoint: [SETUP_ENTRYPOINT],
      command: ["init", `--api-url=${PRODUCTION_BASE_URL}`, "--output=dir:/data", `--token-version=${tokenVersion}`],
      environment: SETUP_PASS_THROUGH,
      volumes: ["./data:/data"],
      profiles: ["setup"],
      ...HARDENING,
    },
    cloudflared: {
      image: CONNECTOR_IMAGE,
      command: "tunnel --no-autoupdate run --url http://localhost:8080",
      environment: { TUNNEL_TOKEN: "${TUNNEL_TOKEN}" },
      network_mode: "service:mcp-proxy",
      ...LONG_RUNNING,
      ...HARDENING,
    },
    "mcp-proxy": {
      image: PROXY_IMAGE,
      volumes: ["./config/mcp-proxy.yaml:/etc/mcp-gateway/config.yaml:ro", "./data:/data:ro"],
      ...LONG_RUNNING,
      ...HARDENING,
    },
  };
}

function proxyConfig(domain: string, changes: Record<string, unknown> = {}): string {
  return stringify({
    listen_addr: ":8080",
    log_level: "info",
    shutdown_timeout: "30s",
    tunnel_domain: domain,
    tls: { cert_file: "/data/tls.crt", key_file: "/data/tls.key" },
    routes: { echo: "http://hello-mcp:9000" },
    // The upstream listens on loopback, which only a local test may allow.
    upstream: { allowed_ips: ["127.0.0.0/8"] },
    ...changes,
  });
}

const emulator = TestEmulator.forFile({ resetBeforeEach: true });
let upstream: McpUpstream;
const projects: ComposeProject[] = [];

beforeAll(async () => {
  upstream = await startMcpUpstream("hello-mcp", loopbackAddress(), 9000);
});
afterAll(async () => {
  await upstream?.close();
});
afterEach(async () => {
  for (const project of projects.splice(0)) await project.down();
});

/** One host's `mcp-tunnel/` directory: the compose file, `config/`, and `data/` chowned to 65532 as step 1 says. */
class Host {
  readonly dir: string;
  readonly project: ComposeProject;

  constructor(services: Services) {
    this.dir = projectDir({ services });
    fs.mkdirSync(path.join(this.dir, "config"));
    fs.mkdirSync(path.join(this.dir, "data"));
    fs.chownSync(path.join(this.dir, "data"), CONTAINER_UID, CONTAINER_UID);
    expectDockerComposeAccepts(this.dir);
    this.project = ComposeProject.load(this.dir, {
      outside: {
        edgeUrl: emulator.edgeUrl,
        rewriteUrl: (url) => (url.replace(/\/$/, "") === PRODUCTION_BASE_URL ? emulator.baseUrl : url),
      },
      names: { "hello-mcp": upstream.host },
      // RSA-4096 server keys (setup's default) take seconds each on a loaded machine.
      images: { [DOCUMENTED_IMAGE_REPOSITORIES.proxy]: { main: startProxy, entrypoints: { [SETUP_ENTRYPOINT]: createSetup({ serverKeyAlgorithm: "ECDSA_P256" }) } } },
    });
    projects.push(this.project);
  }

  /** `docker compose run --rm setup [args]` from a shell with the WIF ids and a freshly minted identity token. */
  async tryRunSetup(args: string[] = [], extraEnv: Record<string, string> = {}) {
    const { id_token } = await emulator.control<{ id_token: string }>("POST", "/_emulator/oidc/token", { sub: "system:serviceaccount:mcp-tunnel:compose", aud: "api.anthropic.com" });
    const env = {
      ANTHROPIC_FEDERATION_RULE_ID: EMULATOR_FIXTURE.tunnelsRuleId,
      ANTHROPIC_ORGANIZATION_ID: EMULATOR_FIXTURE.organizationId,
      ANTHROPIC_WORKSPACE_ID: EMULATOR_FIXTURE.defaultWorkspaceId,
      ANTHROPIC_IDENTITY_TOKEN: id_token,
      ...extraEnv,
    };
    return this.project.run("setup", args, { rm: true, env });
  }

  async runSetup(args: string[] = [], extraEnv: Record<string, string> = {}) {
    const result = await this.tryRunSetup(args, extraEnv);
    expect(result.exitCode, result.logs.join("\n")).toBe(0);
    return result;
  }

  data(file: string): string {
    return fs.readFileSync(path.join(this.dir, "data", file), "utf8").trim();
  }

  writeConfig(changes: Record<string, unknown> = {}): void {
    fs.writeFileSync(path.join(this.dir, "config/mcp-proxy.yaml"), proxyConfig(this.data("tunnel-domain"), changes));
  }

  writeServices(services: Services): void {
    fs.writeFileSync(path.join(this.dir, "docker-compose.yml"), stringify({ services }));
    expectDockerComposeAccepts(this.dir);
  }

  /** `export TUNNEL_TOKEN=$(sudo cat data/tunnel-token)`: the shell `up` runs in. */
  shell(): Record<string, string> {
    return { TUNNEL_TOKEN: this.data("tunnel-token") };
  }

  /** Install step by step: setup, the config, then `up -d` from a shell with the token. */
  async install(changes: Record<string, unknown> = {}) {
    await this.runSetup();
    this.writeConfig(changes);
    return this.project.up([], { env: this.shell() });
  }

  async healthy(routes = 1): Promise<void> {
    await this.project.waitForLog("cloudflared", "Registered tunnel connection", { count: CONNECTIONS });
    await this.project.waitForLog("mcp-proxy", "route configured", { count: routes });
  }

  call(route: string, text: string) {
    return emulator.control<{ ok: boolean; stage?: string; message?: string; result?: { content?: { text: string }[] } }>("POST", "/_emulator/mcp", {
      url: `https://${route}.${this.data("tunnel-domain")}/mcp`,
      method: "tools/call",
      params: { name: "echo", arguments: { text } },
    });
  }
}

const answer = (call: Awaited<ReturnType<Host["call"]>>) => call.result?.content?.[0]?.text;

describe("the documented Compose stack with the real twins", () => {
  it("installs: setup provisions data/, up starts only the proxy and cloudflared, four connections register and a tool call reaches the upstream", async () => {
    const host = new Host(documentedServices());
    expect(await host.install()).toEqual({ created: ["mcp-proxy", "cloudflared"], recreated: [], started: [], unchanged: [] });
    await host.healthy();
    expect(answer(await host.call("echo", "hi"))).toBe("hello-mcp: hi");
  });

  it("rotates the token by bumping --token-version in the file: setup rotates, and up recreates only cloudflared, which connects with the new token", async () => {
    const host = new Host(documentedServices(1));
    await host.install();
    await host.healthy();
    const firstToken = host.data("tunnel-token");

    host.writeServices(documentedServices(2));
    await host.runSetup();
    expect(host.data("tunnel-token")).not.toBe(firstToken);
    expect(await host.project.up(["cloudflared"], { env: host.shell() })).toEqual({ created: [], recreated: ["cloudflared"], started: [], unchanged: ["mcp-proxy"] });
    await host.project.waitForLog("cloudflared", "Registered tunnel connection", { count: CONNECTIONS });
    expect(answer(await host.call("echo", "after rotation"))).toBe("hello-mcp: after rotation");
  });

  it("renews the certificate with run --rm setup renew-cert, which keeps the entrypoint, and the proxy reloads it without a restart", async () => {
    const host = new Host(documentedServices());
    await host.install();
    await host.healthy();
    const certificate = host.data("tls.crt");
    const proxy = host.project.ps().find((container) => container.service === "mcp-proxy")!;

    await host.runSetup(["renew-cert", "--output=dir:/data"]);
    expect(host.data("tls.crt")).not.toBe(certificate);
    await host.project.waitForLog("mcp-proxy", "certificate reloaded");
    expect(host.project.ps().find((container) => container.service === "mcp-proxy")).toEqual(proxy);
    expect(answer(await host.call("echo", "renewed"))).toBe("hello-mcp: renewed");
  });
});

describe("the deployment guide's traps, each the documented stack with one thing wrong", () => {
  it("listen_addr :8443 while cloudflared forwards to localhost:8080: every request fails between cloudflared and the proxy", async () => {
    const host = new Host(documentedServices());
    await host.install({ listen_addr: ":8443" });
    await host.healthy();
    expect(await host.call("echo", "hi")).toMatchObject({ ok: false });
    expect(host.project.logs("cloudflared").join("\n")).toContain("Unable to reach the origin service");
  });

  it("cloudflared without network_mode: service:mcp-proxy has its own localhost, where nothing listens", async () => {
    const services = documentedServices();
    delete services.cloudflared!.network_mode;
    services.cloudflared!.depends_on = ["mcp-proxy"];
    const host = new Host(services);
    await host.install();
    await host.healthy();
    expect(await host.call("echo", "hi")).toMatchObject({ ok: false });
    expect(host.project.logs("cloudflared").join("\n")).toContain("Unable to reach the origin service");
  });

  it("cloudflared without --url: No ingress rules were defined", async () => {
    const services = documentedServices();
    services.cloudflared!.command = "tunnel --no-autoupdate run";
    const host = new Host(services);
    await host.install();
    await host.healthy();
    expect(await host.call("echo", "hi")).toMatchObject({ ok: false });
    expect(host.project.logs("cloudflared").join("\n")).toContain("No ingress rules were defined");
  });

  it("tls files outside the mounted /data: the proxy cannot load its certificate and exits, restart after restart", async () => {
    const host = new Host(documentedServices());
    await host.install({ tls: { cert_file: "/etc/mcp-gateway/tls/tls.crt", key_file: "/etc/mcp-gateway/tls/tls.key" } });
    expect(await host.project.waitForExit("mcp-proxy")).not.toBe(0);
    expect(host.project.ps().find((container) => container.service === "mcp-proxy")).toMatchObject({ restarts: RESTART_LIMIT });
    expect(host.project.logs("mcp-proxy").join("\n")).toContain("open /etc/mcp-gateway/tls/tls.crt: no such file or directory");
  });

  it("the config mounted at /etc/mcp-proxy/config.yaml without -config: the proxy does not find its config", async () => {
    const services = documentedServices();
    services["mcp-proxy"]!.volumes = ["./config/mcp-proxy.yaml:/etc/mcp-proxy/config.yaml:ro", "./data:/data:ro"];
    const host = new Host(services);
    await host.install();
    await host.project.waitForExit("mcp-proxy");
    expect(host.project.logs("mcp-proxy").join("\n")).toContain("open /etc/mcp-gateway/config.yaml: no such file or directory");
  });

  it("up before the config is written: Docker creates config/mcp-proxy.yaml as a directory and the proxy cannot read it", async () => {
    const host = new Host(documentedServices());
    await host.runSetup();
    await host.project.up([], { env: host.shell() });
    await host.project.waitForExit("mcp-proxy");
    expect(fs.statSync(path.join(host.dir, "config/mcp-proxy.yaml")).isDirectory()).toBe(true);
    expect(host.project.logs("mcp-proxy").join("\n")).toContain("read /etc/mcp-gateway/config.yaml: is a directory");
  });

  it("tls.key 0600 owned by the host user: open /data/tls.key: permission denied", async () => {
    const host = new Host(documentedServices());
    await host.runSetup();
    fs.chownSync(path.join(host.dir, "data/tls.key"), 0, 0);
    fs.chmodSync(path.join(host.dir, "data/tls.key"), 0o600);
    host.writeConfig();
    await host.project.up([], { env: host.shell() });
    await host.project.waitForExit("mcp-proxy");
    expect(host.project.logs("mcp-proxy").join("\n")).toContain("open /data/tls.key: permission denied");
  });

  it("data/ not chowned to 65532 before setup: setup cannot write its output", async () => {
    const host = new Host(documentedServices());
    fs.chownSync(path.join(host.dir, "data"), 0, 0);
    const result = await host.tryRunSetup();
    expect(result.exitCode).not.toBe(0);
    expect(result.logs.join("\n")).toContain("permission denied");
  });

  it("a config edit applied with up -d: the proxy is not restarted and the new route is not served until restart mcp-proxy", async () => {
    const host = new Host(documentedServices());
    await host.install();
    await host.healthy();
    host.writeConfig({ routes: { echo: "http://hello-mcp:9000", docs: "http://hello-mcp:9000" } });

    expect(await host.project.up([], { env: host.shell() })).toMatchObject({ unchanged: ["mcp-proxy", "cloudflared"] });
    expect(await host.call("docs", "too early")).toMatchObject({ ok: false });

    const logged = host.project.logs("mcp-proxy").length;
    await host.project.restart("mcp-proxy");
    await host.project.waitForLog("mcp-proxy", "route=docs", { since: logged });
    await host.project.waitForLog("cloudflared", "Registered tunnel connection", { count: CONNECTIONS });
    expect(answer(await host.call("docs", "after restart"))).toBe("hello-mcp: after restart");
  });

  it("up from a shell where TUNNEL_TOKEN was never exported: cloudflared is recreated with an empty token and cannot connect", async () => {
    const host = new Host(documentedServices());
    await host.install();
    await host.healthy();

    const result = await host.project.up([], { env: {} });
    expect(result).toMatchObject({ recreated: ["cloudflared"], unchanged: ["mcp-proxy"] });
    expect(host.project.warnings).toContain('The "TUNNEL_TOKEN" variable is not set. Defaulting to a blank string.');
    expect(await host.project.waitForExit("cloudflared")).not.toBe(0);
    expect(host.project.logs("cloudflared").join("\n")).not.toContain("Registered tunnel connection");
    expect(await host.call("echo", "hi")).toMatchObject({ ok: false });
  });

  it("the rotating setup run on each of two hosts: the second rotation invalidates the first host's new token", async () => {
    const first = new Host(documentedServices(1));
    await first.install();
    await first.healthy();
    const second = new Host(documentedServices(1));
    fs.cpSync(path.join(first.dir, "data"), path.join(second.dir, "data"), { recursive: true });
    for (const file of fs.readdirSync(path.join(second.dir, "data"))) fs.chownSync(path.join(second.dir, "data", file), CONTAINER_UID, CONTAINER_UID);
    second.writeConfig();

    for (const host of [first, second]) {
      host.writeServices(documentedServices(2));
      await host.runSetup([], { TUNNEL_ID: host.data("tunnel-id") });
    }
    expect(first.data("tunnel-token")).not.toBe(second.data("tunnel-token"));

    await first.project.up(["cloudflared"], { env: first.shell() });
    expect(await first.project.waitForExit("cloudflared")).not.toBe(0);
    expect(first.project.logs("cloudflared").join("\n")).toContain("Unauthorized: Invalid tunnel secret");
  });
});
