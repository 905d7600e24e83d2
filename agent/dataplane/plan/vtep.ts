/**
 * The VTEP MAC of a node, derived only from its name: a locally administered unicast
 * MAC (first octet 0x66, as Calico's VTEPs use) followed by 5 bytes of SHA-256 of
 * the name. Every node computes the same MAC for every other node, so nothing needs to
 * be published.
 */
import { createHash } from 'node:crypto';
import { bytesToIp, ipToBytes } from '../netlink/ip.js';

export function vtepMac(nodeName: string): string {
  const h = createHash('sha256').update(`margay-vtep:${nodeName}`).digest();
  const bytes = [0x66, ...h.subarray(0, 5)];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * The IPv6 next hop for a node's VTEP: the link-local address the kernel itself
 * derives from the VTEP MAC (modified EUI-64, RFC 4291 appendix A: flip the U/L bit,
 * insert ff:fe). IPv6 routes cannot name an IPv4 gateway (the kernel refuses RTA_VIA
 * for IPv6), so IPv6 blocks behind a VXLAN peer go `via <this> dev vxlan.margay`,
 * with a permanent neighbour entry to the VTEP MAC; derived, so nothing is allocated
 * or published.
 */
export function vtepLinkLocal(mac: string): string {
  const b = mac.split(':').map((h) => Number.parseInt(h, 16));
  if (b.length !== 6 || b.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new Error(`bad MAC ${mac}`);
  const [m0 = 0, m1 = 0, m2 = 0, m3 = 0, m4 = 0, m5 = 0] = b;
  const w = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16);
  return bytesToIp(ipToBytes(`fe80::${w(m0 ^ 0x02, m1)}:${w(m2, 0xff)}:${w(0xfe, m3)}:${w(m4, m5)}`)); // RFC 5952 text, as the kernel's dumps decode
}
