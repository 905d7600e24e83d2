/**
 * IPv4/IPv6 addresses and CIDRs as bigints, enough for validation (is it a CIDR,
 * is one inside another) and for the oracle (does an IP fall inside a CIDR).
 */

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** Network address with host bits as given (Kubernetes accepts host bits set). */
  addr: bigint;
  prefix: number;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const items = h.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as string;
      if (it.includes('.')) {
        if (i !== items.length - 1) return undefined;
        const v4 = parseV4(it);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !tail) return undefined;
  let all: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return undefined;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export function parseIp(s: string): { family: Family; addr: bigint } | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { family: 4, addr: v4 };
  const v6 = s.includes(':') ? parseV6(s) : undefined;
  if (v6 !== undefined) return { family: 6, addr: v6 };
  return undefined;
}

export function ipFamily(s: string): Family | undefined {
  return parseIp(s)?.family;
}

export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const pfx = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(pfx)) return undefined;
  const prefix = Number(pfx);
  if (prefix > (ip.family === 4 ? 32 : 128)) return undefined;
  return { family: ip.family, addr: ip.addr, prefix };
}

function bits(f: Family): number {
  return f === 4 ? 32 : 128;
}

function network(addr: bigint, prefix: number, f: Family): bigint {
  const host = BigInt(bits(f) - prefix);
  return (addr >> host) << host;
}

export function cidrContainsIp(c: Cidr, ip: { family: Family; addr: bigint }): boolean {
  return c.family === ip.family && network(ip.addr, c.prefix, c.family) === network(c.addr, c.prefix, c.family);
}

/** True when `inner` lies within `outer` (and is not larger). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && inner.prefix >= outer.prefix && cidrContainsIp(outer, { family: inner.family, addr: inner.addr });
}

function formatAddr(addr: bigint, f: Family): string {
  if (f === 4) return [24n, 16n, 8n, 0n].map((s) => String((addr >> s) & 0xffn)).join('.');
  const g: string[] = [];
  for (let i = 7; i >= 0; i--) g.push(((addr >> BigInt(i * 16)) & 0xffffn).toString(16));
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

/** Canonical text of a CIDR with host bits cleared, e.g. "10.0.0.0/8". */
export function formatCidr(c: Cidr): string {
  return `${formatAddr(network(c.addr, c.prefix, c.family), c.family)}/${c.prefix}`;
}

/** Canonical text of an IP. */
export function formatIp(ip: { family: Family; addr: bigint }): string {
  return formatAddr(ip.addr, ip.family);
}

/** Splits a /0 into two /1s (ipset hash:net cannot hold a /0); other CIDRs unchanged. */
export function splitZero(c: Cidr): Cidr[] {
  if (c.prefix !== 0) return [c];
  const top = 1n << BigInt(bits(c.family) - 1);
  return [{ family: c.family, addr: 0n, prefix: 1 }, { family: c.family, addr: top, prefix: 1 }];
}
