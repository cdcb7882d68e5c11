/**
 * Whether a SAN DNS name covers `hostname`, as TLS clients decide it (RFC 6125): an exact
 * match, or `*.rest` covering exactly one extra leading label. Partial-label wildcards such as
 * `f*.example.com` match nothing.
 */
export function dnsNameCovers(sanName: string, hostname: string): boolean {
  const pattern = normalize(sanName);
  const host = normalize(hostname);
  if (host.length === 0 || host.includes("*")) return false;
  if (!pattern.startsWith("*.")) return !pattern.includes("*") && pattern === host;
  const parent = pattern.slice(2);
  if (parent.length === 0 || parent.includes("*")) return false;
  const dot = host.indexOf(".");
  return dot > 0 && host.slice(dot + 1) === parent;
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}
