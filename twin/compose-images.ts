import type { TwinMain } from "./container";
import { ComposeError } from "./compose-error";
import { imageRepository } from "./compose-image-reference";
import { startConnector } from "./connector";
import { startProxy } from "./proxy";
import { runSetup } from "./setup";

/** The twins one image can run: its own entrypoint, and the ones a compose file may pick instead. */
export interface ImageTwins {
  /** The process the image runs when the service sets no `entrypoint`. */
  main?: TwinMain;
  /** By the first word of an overridden `entrypoint`, e.g. `/setup` in the mcp-proxy image. */
  entrypoints?: Readonly<Record<string, TwinMain>>;
}

/** Image repository (any tag or digest) → its twins. A bare TwinMain stands for `{ main }`. */
export type ImageRegistry = Readonly<Record<string, ImageTwins | TwinMain>>;

/** The documented images by repository, as the public deployment guides pin them. */
export const DOCUMENTED_IMAGE_REPOSITORIES = {
  connector: "cloudflare/cloudflared",
  proxy: "us-docker.pkg.dev/anthropic-public-registry/images/mcp-proxy",
} as const;

/** Where the setup component lives in the mcp-proxy image. */
export const SETUP_ENTRYPOINT = "/setup";

/**
 * The runner's default: the documented images, whatever tag or digest pins them. The mcp-proxy
 * image runs the proxy, or the setup component when the service sets `entrypoint: ["/setup"]`.
 */
export const DOCUMENTED_IMAGES: ImageRegistry = {
  [DOCUMENTED_IMAGE_REPOSITORIES.connector]: { main: startConnector },
  [DOCUMENTED_IMAGE_REPOSITORIES.proxy]: { main: startProxy, entrypoints: { [SETUP_ENTRYPOINT]: runSetup } },
};

export interface ResolvedTwin {
  main: TwinMain;
  /** What the twin gets as argv: the overridden entrypoint's other words, then the command. */
  argv: string[];
}

/**
 * Picks the twin for a service as Docker would pick the process: by image repository, then by
 * entrypoint. Later registries win, so a caller can add a mirror or replace a twin.
 */
export function resolveImageTwin(registries: readonly ImageRegistry[], service: string, image: string, entrypoint: string[] | undefined, command: string[]): ResolvedTwin {
  const repository = imageRepository(image);
  let twins: ImageTwins | undefined;
  for (const registry of registries) {
    for (const [key, value] of Object.entries(registry)) {
      if (imageRepository(key) === repository) twins = typeof value === "function" ? { main: value } : value;
    }
  }
  if (!twins) {
    throw new ComposeError("IMAGE_UNKNOWN", `service "${service}": no twin for image "${image}" (repository ${repository})`, "map the repository to a twin in the runner's `images` option (a mirror of a documented image maps to its twins)");
  }
  if (entrypoint === undefined) {
    if (!twins.main) throw new ComposeError("IMAGE_UNKNOWN", `service "${service}": image "${image}" has no twin for its default entrypoint`, "set the entrypoint the twin stands for, or register a main twin");
    return { main: twins.main, argv: command };
  }
  const [program, ...leading] = entrypoint;
  const main = program === undefined ? undefined : twins.entrypoints?.[program];
  if (!main) {
    throw new ComposeError("IMAGE_UNKNOWN", `service "${service}": image "${image}" has no twin for entrypoint ${JSON.stringify(entrypoint)}`, `known entrypoints: ${Object.keys(twins.entrypoints ?? {}).join(", ") || "none"}`);
  }
  return { main, argv: [...leading, ...command] };
}
