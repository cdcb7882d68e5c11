import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ComposeError } from "./compose-error";
import { loadComposeModel, startOrder, type ShellEnv } from "./compose-file";
import { expectDockerComposeAccepts, expectDockerComposeRejects } from "./docker-compose-check.test-support";
import { projectDir } from "./compose-project-dir.test-support";

const PROXY_IMAGE = "us-docker.pkg.dev/anthropic-public-registry/images/mcp-proxy@sha256:efb27b299d627e4134815663cb8896641eeaee025d734c0f695582b4df38f013";
const CONNECTOR_IMAGE = "cloudflare/cloudflared@sha256:6b599ca3e974349ead3286d178da61d291961182ec3fe9c505e1dd02c8ac31b0";

/** Loads the project and holds Docker Compose to the same verdict. */
function load(dir: string, env: ShellEnv = {}) {
  expectDockerComposeAccepts(dir, env);
  return loadComposeModel(dir, { env });
}

function rejected(dir: string, env: ShellEnv = {}, dockerSays?: RegExp): ComposeError {
  expectDockerComposeRejects(dir, env, dockerSays);
  try {
    loadComposeModel(dir, { env });
  } catch (error) {
    if (error instanceof ComposeError) return error;
    throw error;
  }
  throw new Error("the runner accepted a file Docker Compose rejects");
}

function service(dir: string, name: string, env: ShellEnv = {}) {
  return load(dir, env).services.get(name)!;
}

describe("interpolation over the whole file", () => {
  it("fails the command on a required variable even in a service that up would not start", () => {
    const dir = projectDir({
      services: {
        proxy: { image: PROXY_IMAGE },
        setup: { image: PROXY_IMAGE, entrypoint: ["/setup"], profiles: ["setup"], environment: { TUNNEL_ID: "${TUNNEL_ID:?export TUNNEL_ID first}" } },
      },
    });
    const error = rejected(dir, {}, /export TUNNEL_ID first/);
    expect(error.code).toBe("VARIABLE_REQUIRED");
    expect(error.message).toContain("required variable TUNNEL_ID is missing a value: export TUNNEL_ID first");
  });

  it("takes the shell's value over .env's", () => {
    const dir = projectDir({ services: { connector: { image: CONNECTOR_IMAGE, environment: { TUNNEL_TOKEN: "${TUNNEL_TOKEN}" } } } }, { ".env": "TUNNEL_TOKEN=from-dotenv\n" });
    expect(service(dir, "connector", { TUNNEL_TOKEN: "from-shell" }).environment).toEqual({ TUNNEL_TOKEN: "from-shell" });
    expect(service(dir, "connector").environment).toEqual({ TUNNEL_TOKEN: "from-dotenv" });
  });

  it("makes an unset variable blank and prints Compose's warning", () => {
    const dir = projectDir({ services: { connector: { image: CONNECTOR_IMAGE, environment: ["TUNNEL_TOKEN=${TUNNEL_TOKEN}"] } } });
    const model = load(dir);
    expect(model.services.get("connector")!.environment).toEqual({ TUNNEL_TOKEN: "" });
    expect(model.warnings).toContain('The "TUNNEL_TOKEN" variable is not set. Defaulting to a blank string.');
  });

  it("substitutes defaults in any value, not only in environment", () => {
    const dir = projectDir({ services: { proxy: { image: "${PROXY_IMAGE:-" + PROXY_IMAGE + "}", user: "${PROXY_UID-65532}:65532" } } });
    const proxy = service(dir, "proxy");
    expect(proxy.image).toBe(PROXY_IMAGE);
    expect(proxy.user).toEqual({ uid: 65532, gid: 65532 });
  });

  it("keeps $$ as a literal dollar", () => {
    const dir = projectDir({ services: { proxy: { image: PROXY_IMAGE, command: ["echo", "$$HOME"] } } });
    expect(service(dir, "proxy").command).toEqual(["echo", "$HOME"]);
  });
});

describe("environment", () => {
  it("passes a bare name through from the shell or from .env, and drops it when neither sets it (Compose v2)", () => {
    const dir = projectDir(
      { services: { setup: { image: PROXY_IMAGE, environment: ["TUNNEL_ID", "ANTHROPIC_ORGANIZATION_ID", "ANTHROPIC_IDENTITY_TOKEN"] } } },
      { ".env": "ANTHROPIC_ORGANIZATION_ID=org-from-dotenv\n" },
    );
    expect(service(dir, "setup", { TUNNEL_ID: "tnl_shell" }).environment).toEqual({ TUNNEL_ID: "tnl_shell", ANTHROPIC_ORGANIZATION_ID: "org-from-dotenv" });
  });

  it("reads a mapping, null meaning pass-through and numbers becoming strings", () => {
    const dir = projectDir({ services: { proxy: { image: PROXY_IMAGE, environment: { PASSED: null, ABSENT: null, PORT: 8080, EMPTY: "" } } } });
    expect(service(dir, "proxy", { PASSED: "yes" }).environment).toEqual({ PASSED: "yes", PORT: "8080", EMPTY: "" });
  });

  it("reads env_file entries from the project directory, with environment over them", () => {
    const dir = projectDir(
      { services: { connector: { image: CONNECTOR_IMAGE, env_file: ["connector.env"], environment: ["OVERRIDDEN=from-environment"] } } },
      { "connector.env": "TUNNEL_TOKEN=from-env-file\nOVERRIDDEN=from-env-file\n" },
    );
    expect(service(dir, "connector").environment).toEqual({ TUNNEL_TOKEN: "from-env-file", OVERRIDDEN: "from-environment" });
  });

  it("fails on a missing env_file, as Docker does", () => {
    const dir = projectDir({ services: { connector: { image: CONNECTOR_IMAGE, env_file: "connector.env" } } });
    const error = rejected(dir, {}, /connector\.env/);
    expect(error.code).toBe("ENV_FILE_INVALID");
    expect(error.message).toBe(`env file ${path.join(dir, "connector.env")} not found: no such file or directory`);
  });
});

describe("what the file is checked for", () => {
  it("rejects a key Docker Compose does not know", () => {
    const dir = projectDir({ services: { proxy: { image: PROXY_IMAGE, read_only: true, network: "service:x" } } });
    expect(rejected(dir, {}, /network/).message).toBe("services.proxy additional properties 'network' not allowed");
  });

  it("rejects network_mode naming a service the file does not have", () => {
    const dir = projectDir({ services: { cloudflared: { image: CONNECTOR_IMAGE, network_mode: "service:mcp-proxy" } } });
    expect(rejected(dir).code).toBe("SERVICE_UNKNOWN");
  });

  it("rejects a depends_on cycle", () => {
    const dir = projectDir({ services: { a: { image: PROXY_IMAGE, depends_on: ["b"] }, b: { image: PROXY_IMAGE, depends_on: ["a"] } } });
    expect(rejected(dir).code).toBe("DEPENDENCY_CYCLE");
  });

  it("refuses a feature it cannot stand for instead of ignoring it", () => {
    const dir = projectDir({ services: { proxy: { image: PROXY_IMAGE, build: "." } } });
    expectDockerComposeAccepts(dir);
    expect(() => loadComposeModel(dir, { env: {} })).toThrow(expect.objectContaining({ code: "UNSUPPORTED" }));
  });

  it("keeps keys it accepts without acting on them", () => {
    const dir = projectDir({ services: { proxy: { image: PROXY_IMAGE, labels: { team: "infra" } } } });
    expect(service(dir, "proxy").ignored).toEqual({ labels: { team: "infra" } });
  });
});

describe("the service model", () => {
  it("reads the documented stack's settings", () => {
    const hardening = { user: "65532:65532", read_only: true, security_opt: ["no-new-privileges:true"], cap_drop: ["ALL"] };
    const longRunning = { restart: "unless-stopped", stop_grace_period: "30s", logging: { options: { "max-size": "10m", "max-file": "3" } } };
    const dir = projectDir({
      services: {
        setup: { image: PROXY_IMAGE, entrypoint: ["/setup"], command: ["init", "--output=dir:/data"], volumes: ["./data:/data"], profiles: ["setup"], ...hardening },
        "mcp-proxy": { image: PROXY_IMAGE, volumes: ["./config/mcp-proxy.yaml:/etc/mcp-gateway/config.yaml:ro", "./data:/data:ro"], ...longRunning, ...hardening },
        cloudflared: { image: CONNECTOR_IMAGE, command: "tunnel --no-autoupdate run --url http://localhost:8080", network_mode: "service:mcp-proxy", ...longRunning, ...hardening },
      },
    });
    const model = load(dir);
    const cloudflared = model.services.get("cloudflared")!;
    expect(cloudflared).toMatchObject({
      command: ["tunnel", "--no-autoupdate", "run", "--url", "http://localhost:8080"],
      entrypoint: undefined,
      networkMode: { kind: "service", service: "mcp-proxy" },
      restart: { condition: "unless-stopped" },
      stopGracePeriodMs: 30_000,
      logging: { options: { "max-size": "10m", "max-file": "3" } },
      user: { uid: 65532, gid: 65532 },
      readOnly: true,
      securityOpt: ["no-new-privileges:true"],
      capDrop: ["ALL"],
      mounts: [],
    });
    expect(model.services.get("mcp-proxy")!.mounts).toEqual([
      { type: "bind", source: path.join(dir, "config/mcp-proxy.yaml"), target: "/etc/mcp-gateway/config.yaml", readOnly: true, createHostPath: true },
      { type: "bind", source: path.join(dir, "data"), target: "/data", readOnly: true, createHostPath: true },
    ]);
    expect(model.services.get("setup")).toMatchObject({ entrypoint: ["/setup"], profiles: ["setup"], mounts: [{ target: "/data", readOnly: false }] });
    expect(startOrder(model.services, ["cloudflared"])).toEqual(["mcp-proxy", "cloudflared"]);
  });

  it("runs as root with a writable root file system when user and read_only are absent", () => {
    const dir = projectDir({ services: { proxy: { image: PROXY_IMAGE } } });
    expect(service(dir, "proxy")).toMatchObject({ user: { uid: 0, gid: 0 }, readOnly: false, restart: { condition: "no" }, stopGracePeriodMs: 10_000 });
  });

  it("reads long-syntax volumes, which do not create a missing bind source unless asked", () => {
    const dir = projectDir({
      services: {
        proxy: {
          image: PROXY_IMAGE,
          volumes: [
            { type: "bind", source: "./data", target: "/data", read_only: true },
            { type: "tmpfs", target: "/tmp" },
          ],
        },
      },
    });
    expect(service(dir, "proxy").mounts).toEqual([
      { type: "bind", source: path.join(dir, "data"), target: "/data", readOnly: true, createHostPath: false },
      { type: "tmpfs", target: "/tmp" },
    ]);
    expect(fs.existsSync(path.join(dir, "data"))).toBe(false);
  });

  it("reads on-failure:N and a named volume declared at the top level", () => {
    const dir = projectDir({ services: { proxy: { image: PROXY_IMAGE, restart: "on-failure:2", volumes: ["state:/state:ro"] } }, volumes: { state: null } });
    expect(service(dir, "proxy")).toMatchObject({ restart: { condition: "on-failure", maxRetries: 2 }, mounts: [{ type: "volume", name: "state", target: "/state", readOnly: true }] });
  });
});
