/**
 * IP address and CIDR parsing for schema checks, with the strictness of Kubernetes'
 * own validation (Go netip): dotted-quad IPv4 without leading zeros, IPv6 with at
 * most one "::" and an optional embedded IPv4 tail, no zones. Pure.
 */

export interface ParsedIP {
  family: 4 | 6;
  /** 4 or 16 bytes, network order */
  bytes: number[];
}

export interface ParsedCIDR extends ParsedIP {
  prefixLength: number;
}

export function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

export function parseIPv6(s: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return undefined;
  let tail: number[] = [];
  let text = s;
  if (s.includes('.')) {
    const lastColon = s.lastIndexOf(':');
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = v4;
    text = s.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      const n = parseInt(g, 16);
      out.push(n >> 8, n & 0xff);
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const rest = halves.length === 2 ? groups(halves[1] as string) : [];
  if (!head || !rest) return undefined;
  const have = head.length + rest.length + tail.length;
  if (halves.length === 1) return have === 16 ? [...head, ...tail] : undefined;
  if (have > 14) return undefined;
  return [...head, ...new Array<number>(16 - have).fill(0), ...rest, ...tail];
}

export function parseIP(s: string): ParsedIP | undefined {
  const v4 = parseIPv4(s);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = s.includes(':') ? parseIPv6(s) : undefined;
  return v6 ? { family: 6, bytes: v6 } : undefined;
}

export function parseCIDR(s: string): ParsedCIDR | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(len)) return undefined;
  const prefixLength = Number(len);
  if (prefixLength > ip.bytes.length * 8) return undefined;
  return { ...ip, prefixLength };
}

/** True when no bit after the prefix is set (10.0.0.0/8 yes, 10.0.0.1/8 no). */
export function isMasked(c: ParsedCIDR): boolean {
  return c.bytes.every((b, i) => {
    const keep = Math.max(0, Math.min(8, c.prefixLength - i * 8));
    return (b & (0xff >> keep)) === 0;
  });
}
