/** IPv4 addresses and CIDRs as the proxy's `upstream.allowed_ips` takes them (IPv4 only). */
export interface Ipv4Range {
  base: number;
  prefix: number;
}

const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | undefined {
  const match = OCTETS.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

/** `10.0.0.0/8` or a single address (`/32`); undefined when it is not IPv4. */
export function parseIpv4Range(text: string): Ipv4Range | undefined {
  const [address, prefixText, extra] = text.split("/");
  if (extra !== undefined || address === undefined) return undefined;
  const base = parseIpv4(address);
  if (base === undefined) return undefined;
  if (prefixText === undefined) return { base, prefix: 32 };
  if (!/^\d{1,2}$/.test(prefixText) || Number(prefixText) > 32) return undefined;
  return { base, prefix: Number(prefixText) };
}

export function rangeContains(range: Ipv4Range, address: number): boolean {
  const size = 2 ** (32 - range.prefix);
  const start = Math.floor(range.base / size) * size;
  return address >= start && address < start + size;
}

export const isIpv6Literal = (host: string): boolean => host.startsWith("[") || host.includes(":");
