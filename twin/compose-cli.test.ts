import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { composeCli, type CliIo } from "./compose-cli";
import { projectDir } from "./compose-project-dir.test-support";
import { expectDockerComposeAccepts, expectDockerComposeRejects } from "./docker-compose-check.test-support";

const PROXY_IMAGE = "us-docker.pkg.dev/anthropic-public-registry/images/mcp-proxy@sha256:efb27b299d627e4134815663cb8896641eeaee025d734c0f695582b4df38f013";

async function cli(argv: string[], env: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const io: CliIo = { env, out: (text) => (out += text), err: (text) => (err += text), interrupted: async () => undefined };
  const code = await composeCli(argv, io);
  return { code, out, err };
}

const setupStack = {
  services: {
    setup: { image: PROXY_IMAGE, entrypoint: ["/setup"], command: ["init", "--output=dir:/data", "--token-version=${TOKEN_VERSION:-1}"], volumes: ["./data:/data"], profiles: ["setup"] },
    "mcp-proxy": { image: PROXY_IMAGE, environment: ["DOMAIN=${TUNNEL_DOMAIN:?write .env first}"] },
  },
};

describe("compose-cli", () => {
  it("prints the resolved project for config, variables substituted from .env", async () => {
    const dir = projectDir(setupStack, { ".env": "TUNNEL_DOMAIN=abcd.tunnel.example\n" });
    expectDockerComposeAccepts(dir);
    const { code, out } = await cli(["-f", path.join(dir, "docker-compose.yml"), "config"]);
    expect(code).toBe(0);
    const printed = parse(out);
    expect(printed.services["mcp-proxy"].environment).toEqual({ DOMAIN: "abcd.tunnel.example" });
    expect(printed.services.setup.command).toEqual(["init", "--output=dir:/data", "--token-version=1"]);
  });

  it("exits 1 with Compose's message when a required variable is unset", async () => {
    const dir = projectDir(setupStack);
    expectDockerComposeRejects(dir, {}, /write \.env first/);
    const { code, err } = await cli(["-f", path.join(dir, "docker-compose.yml"), "config"]);
    expect(code).toBe(1);
    expect(err).toContain("required variable TUNNEL_DOMAIN is missing a value: write .env first");
  });

  it("runs a one-off container, prints its log prefixed with the service, and exits with its code", async () => {
    const dir = projectDir(setupStack, { ".env": "TUNNEL_DOMAIN=abcd.tunnel.example\n" });
    expectDockerComposeAccepts(dir);
    const { code, out } = await cli(["-f", path.join(dir, "docker-compose.yml"), "run", "--rm", "setup", "init", "--output=dir:/data", "--token-version=1"]);
    expect(code).not.toBe(0);
    expect(out).toMatch(/^setup +\| /m);
  });

  it.each([[["frobnicate"]], [[]], [["--bogus", "config"]], [["--name", "not-an-address", "config"]]])("exits 2 with the usage for %j", async (argv) => {
    const { code, err } = await cli(argv);
    expect(code).toBe(2);
    expect(err).toContain("usage: compose-cli");
  });
});
