import { describe, expect, it } from "vitest";
import { exitedTwin, type TwinMain } from "./container";
import { startConnector } from "./connector";
import { DOCUMENTED_IMAGES, resolveImageTwin } from "./compose-images";
import { startProxy } from "./proxy";
import { runSetup } from "./setup";

const PROXY = "us-docker.pkg.dev/anthropic-public-registry/images/mcp-proxy";

describe("resolveImageTwin", () => {
  it.each([
    ["cloudflare/cloudflared@sha256:6b599ca3e974349ead3286d178da61d291961182ec3fe9c505e1dd02c8ac31b0", undefined, startConnector],
    ["cloudflare/cloudflared:2025.8.0", undefined, startConnector],
    ["docker.io/cloudflare/cloudflared", undefined, startConnector],
    [`${PROXY}@sha256:efb27b299d627e4134815663cb8896641eeaee025d734c0f695582b4df38f013`, undefined, startProxy],
    [`${PROXY}:latest`, undefined, startProxy],
    [`${PROXY}@sha256:efb27b299d627e4134815663cb8896641eeaee025d734c0f695582b4df38f013`, ["/setup"], runSetup],
  ])("runs %s with entrypoint %j as the documented twin", (image, entrypoint, twin) => {
    expect(resolveImageTwin([DOCUMENTED_IMAGES], "service", image, entrypoint, []).main).toBe(twin);
  });

  it("lets a later registry map a mirror, or replace a documented image's twin", () => {
    const stand: TwinMain = async () => exitedTwin(0);
    const registries = [DOCUMENTED_IMAGES, { "mirror.example:5000/cloudflared": DOCUMENTED_IMAGES["cloudflare/cloudflared"]!, "cloudflare/cloudflared": stand }];
    expect(resolveImageTwin(registries, "cloudflared", "mirror.example:5000/cloudflared:2025.8.0", undefined, []).main).toBe(startConnector);
    expect(resolveImageTwin(registries, "cloudflared", "cloudflare/cloudflared:2025.8.0", undefined, []).main).toBe(stand);
  });

  it("fails on an image nobody registered, naming service, image and the option to use", () => {
    expect(() => resolveImageTwin([DOCUMENTED_IMAGES], "cloudflared", "ghcr.io/someone/cloudflared:1", undefined, [])).toThrow(
      expect.objectContaining({ code: "IMAGE_UNKNOWN", message: 'service "cloudflared": no twin for image "ghcr.io/someone/cloudflared:1" (repository ghcr.io/someone/cloudflared)', hint: expect.stringContaining("`images` option") }),
    );
  });

  it("fails on an entrypoint the documented proxy image does not have", () => {
    expect(() => resolveImageTwin([DOCUMENTED_IMAGES], "setup", `${PROXY}:1`, ["/bin/setup"], [])).toThrow(/no twin for entrypoint \["\/bin\/setup"\]/);
  });
});
