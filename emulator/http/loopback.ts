/**
 * Whether a peer address is loopback: all of 127.0.0.0/8 (twins live on addresses across that
 * range, one per network namespace), ::1, and their IPv4-mapped forms. The control plane and the
 * edge answer only such peers.
 */
export function isLoopbackPeer(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return address === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
