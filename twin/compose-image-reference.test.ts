import { describe, expect, it } from "vitest";
import { imageRepository } from "./compose-image-reference";

describe("imageRepository", () => {
  it.each([
    ["cloudflare/cloudflared", "docker.io/cloudflare/cloudflared"],
    ["cloudflare/cloudflared:2025.8.0", "docker.io/cloudflare/cloudflared"],
    ["cloudflare/cloudflared@sha256:6b599ca3e974349ead3286d178da61d291961182ec3fe9c505e1dd02c8ac31b0", "docker.io/cloudflare/cloudflared"],
    ["docker.io/cloudflare/cloudflared:latest", "docker.io/cloudflare/cloudflared"],
    ["index.docker.io/cloudflare/cloudflared", "docker.io/cloudflare/cloudflared"],
    ["busybox", "docker.io/library/busybox"],
    ["us-docker.pkg.dev/anthropic-public-registry/images/mcp-proxy@sha256:efb2", "us-docker.pkg.dev/anthropic-public-registry/images/mcp-proxy"],
    ["us-docker.pkg.dev/anthropic-public-registry/images/mcp-proxy:1.0@sha256:efb2", "us-docker.pkg.dev/anthropic-public-registry/images/mcp-proxy"],
    ["localhost:5000/mirror/cloudflared:1", "localhost:5000/mirror/cloudflared"],
    ["registry.example:443/Mirror/MCP-Proxy", "registry.example:443/mirror/mcp-proxy"],
  ])("reads %s as %s", (reference, repository) => {
    expect(imageRepository(reference)).toBe(repository);
  });
});
