/**
 * Import/export policy hooks that need no language: prefix filters ("accept only
 * prefixes inside these pools") and the maximum-prefix limit (RFC 4486 Cease 6/1,
 * data = AFI, SAFI, upper bound).
 */
import { ipv4ToNumber } from '../fsm/collision.js';
import { ipv4Mask } from '../wire/address.js';

function ipv6ToBigInt(addr: string): bigint {
  const [head, tail] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  // an embedded IPv4 tail ("::ffff:1.2.3.4") counts as two groups
  const expandV4 = (groups: string[]): string[] => groups.flatMap((g) => {
    if (!g.includes('.')) return [g];
    const n = ipv4ToNumber(g);
    return [(n >>> 16).toString(16), (n & 0xffff).toString(16)];
  });
  const hh = expandV4(h);
  const tt = expandV4(t);
  const groups = tail === undefined ? hh : [...hh, ...Array<string>(8 - hh.length - tt.length).fill('0'), ...tt];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g || '0', 16));
  return v;
}

interface Pool4 { net: number; len: number }
interface Pool6 { net: bigint; len: number }

export interface PrefixFilter {
  /** true when addr/len lies inside one of the pools (and is at least as long) */
  (addr: string, len: number): boolean;
  /** the same test for an IPv4 prefix given as numbers (no text) */
  ipv4(bits: number, len: number): boolean;
}

/** Compiles pools like ["10.244.0.0/16", "fd00:10:244::/48"]; undefined pools = accept all. */
export function compilePrefixFilter(pools: readonly string[] | undefined): PrefixFilter | undefined {
  if (!pools) return undefined;
  const v4: Pool4[] = [];
  const v6: Pool6[] = [];
  for (const p of pools) {
    const [addr = '', l = ''] = p.split('/');
    const len = Number(l);
    if (addr.includes(':')) v6.push({ net: ipv6ToBigInt(addr) >> BigInt(128 - len), len });
    else v4.push({ net: (ipv4ToNumber(addr) & ipv4Mask(len)) >>> 0, len });
  }
  const ipv4 = (a: number, len: number): boolean => {
    for (const p of v4) if (len >= p.len && ((a & ipv4Mask(p.len)) >>> 0) === p.net) return true;
    return false;
  };
  const filter = (addr: string, len: number): boolean => {
    if (addr.includes(':')) {
      if (v6.length === 0) return false;
      const a = ipv6ToBigInt(addr);
      return v6.some((p) => len >= p.len && a >> BigInt(128 - p.len) === p.net);
    }
    return ipv4(ipv4ToNumber(addr), len);
  };
  return Object.assign(filter, { ipv4 });
}

/** RFC 4486 §4: Cease subcode 1 data — AFI (2), SAFI (1), the prefix upper bound (4). */
export function maxPrefixData(afi: number, safi: number, limit: number): Uint8Array {
  return new Uint8Array([afi >> 8, afi & 0xff, safi, (limit >>> 24) & 0xff, (limit >>> 16) & 0xff, (limit >>> 8) & 0xff, limit & 0xff]);
}
