/**
 * The repository part of an image reference, normalised as Docker does, so
 * `cloudflare/cloudflared`, `docker.io/cloudflare/cloudflared:2025.1.0` and
 * `cloudflare/cloudflared@sha256:…` all name the same image.
 */
export function imageRepository(reference: string): string {
  let rest = reference.trim();
  const at = rest.indexOf("@");
  if (at >= 0) rest = rest.slice(0, at);
  // A tag is the part after the last `:` of the last path component (a registry port has `/` after it).
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", lastSlash + 1);
  if (colon >= 0) rest = rest.slice(0, colon);
  rest = rest.toLowerCase();
  const parts = rest.split("/");
  const first = parts[0]!;
  const hasRegistry = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (hasRegistry) return first === "index.docker.io" ? `docker.io/${parts.slice(1).join("/")}` : rest;
  return parts.length === 1 ? `docker.io/library/${rest}` : `docker.io/${rest}`;
}
