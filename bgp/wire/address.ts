/**
 * IPv4 and IPv6 addresses between bytes and strings, without allocation beyond the
 * string itself: dotted quad, and RFC 5952 canonical IPv6 (lower case, no leading
 * zeros, the longest run of two or more zero groups compressed to "::").
 */

const DEC: string[] = Array.from({ length: 256 }, (_, i) => String(i));

export function formatIpv4(b: Uint8Array, p: number): string {
  return `${DEC[b[p] as number]}.${DEC[b[p + 1] as number]}.${DEC[b[p + 2] as number]}.${DEC[b[p + 3] as number]}`;
}

export function formatIpv4Number(n: number): string {
  return `${DEC[(n >>> 24) & 0xff]}.${DEC[(n >>> 16) & 0xff]}.${DEC[(n >>> 8) & 0xff]}.${DEC[n & 0xff]}`;
}

/** Writes the decimal digits of `v` (0–255) as character codes at codes[k..]; the position after them. */
export function putDec(codes: Uint16Array, k: number, v: number): number {
  if (v >= 100) { codes[k++] = 48 + ((v / 100) | 0); v %= 100; codes[k++] = 48 + ((v / 10) | 0); } else if (v >= 10) codes[k++] = 48 + ((v / 10) | 0);
  codes[k++] = 48 + (v % 10);
  return k;
}

/**
 * Writes the dotted quad of `n` (unsigned 32-bit) as character codes at codes[k..];
 * the position after it. For text built as one flat string from character codes
 * (bgp/wire/prefix.ts: NLRI addresses, "a.b.c.d/len" of the RIB's numeric keys).
 */
export function putIpv4(codes: Uint16Array, k: number, n: number): number {
  k = putDec(codes, k, n >>> 24);
  codes[k++] = 46;
  k = putDec(codes, k, (n >>> 16) & 0xff);
  codes[k++] = 46;
  k = putDec(codes, k, (n >>> 8) & 0xff);
  codes[k++] = 46;
  return putDec(codes, k, n & 0xff);
}

/** 16 bytes at b[p..p+16) as RFC 5952 text. */
export function formatIpv6(b: Uint8Array, p: number): string {
  const g: number[] = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = ((b[p + 2 * i] as number) << 8) | (b[p + 2 * i + 1] as number);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** The IPv4 netmask of a prefix length (0–32) as an unsigned 32-bit number. */
export const ipv4Mask = (length: number): number => (length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0);

/** Dotted quad → unsigned 32-bit number, or undefined when it is not one. */
export function parseIpv4(s: string): number | undefined {
  const v = parseIpv4At(s, 0, s.length);
  return v < 0 ? undefined : v;
}

/**
 * The dotted quad in s[start, end) → unsigned 32-bit number, or -1 when it is not
 * one (four decimal octets, no leading zeros). Allocates nothing: the prefix table
 * parses its text keys with it.
 */
export function parseIpv4At(s: string, start: number, end: number): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 255 || ++parts > 4) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // no leading zeros
      part = part * 10 + (c - 48);
      if (++digits > 3) return -1;
    } else {
      return -1;
    }
  }
  return parts === 4 ? n : -1;
}

/** IPv6 text (with "::" and an optional trailing dotted quad) → 16 bytes, or undefined. */
export function parseIpv6(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return undefined;
  const parseGroups = (t: string): number[] | undefined => {
    if (t === '') return [];
    const parts = t.split(':');
    const groups: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
        groups.push(parseInt(part, 16));
      }
    }
    return groups;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = (groups[i] as number) >>> 8;
    out[2 * i + 1] = (groups[i] as number) & 0xff;
  }
  return out;
}

/** An IPv6 link-local address (fe80::/10, RFC 4291 §2.5.6) in canonical text form. */
export const isLinkLocalText = (h: string): boolean => /^fe[89ab][0-9a-f]:/i.test(h);

export function isIpv6Text(s: string): boolean {
  return s.includes(':');
}

/**
 * An address as the codec writes it: IPv6 text re-formatted by formatIpv6 (RFC 5952,
 * so "2001:DB8:0::1" → "2001:db8::1"); IPv4 and text that is not IPv6 unchanged. For
 * comparing configured addresses with decoded ones; call it once, not per route.
 */
export function canonicalAddress(s: string): string {
  if (!isIpv6Text(s)) return s;
  const b = parseIpv6(s);
  return b === undefined ? s : formatIpv6(b, 0);
}
