/**
 * The standalone speaker's YAML configuration (`margay bgp speaker --config FILE`),
 * validated by hand so every error names the field path, e.g.
 * `neighbors[1].asn: must be an integer 1..4294967295`. All errors are collected and
 * reported together; nothing is applied from an invalid file.
 */
import { isIP } from 'node:net';
import { parse } from 'yaml';
import { canonicalAddress } from '../wire/address.js';
import { parsePrefix } from '../wire/prefix.js';

export type Family = 'ipv4' | 'ipv6';

export interface NeighborConfig {
  address: string;
  asn: number;
  password?: string;
  passive: boolean;
  routeReflectorClient: boolean;
  holdTime: number;
  /** ConnectRetry timer (seconds); absent = the speaker's default, 5 (see bgp/DESIGN.md) */
  connectRetry?: number;
  families: Family[];
  maxPrefixes?: number;
  nextHopSelf: boolean;
  gracefulRestart: boolean;
  /** GTSM (RFC 5082): allowed hops; absent = off */
  ttlSecurity?: number;
  /** remote port (tests); default 179 */
  port: number;
  /** local address to connect from */
  localAddress?: string;
}

export interface OriginateConfig {
  prefix: string;
  communities: string[];
  nextHop?: string;
}

export interface SpeakerConfig {
  asn: number;
  routerId: string;
  listen: { address: string; port: number } | null;
  neighbors: NeighborConfig[];
  originate: OriginateConfig[];
  controlSocket?: string;
  /** graceful-restart restart time announced (seconds) */
  restartTime: number;
  clusterId?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid speaker config:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const NEIGHBOR_KEYS = ['address', 'asn', 'password', 'passive', 'routeReflectorClient', 'holdTime', 'connectRetry', 'families', 'maxPrefixes',
  'nextHopSelf', 'gracefulRestart', 'ttlSecurity', 'port', 'localAddress'];
const TOP_KEYS = ['asn', 'routerId', 'listen', 'neighbors', 'originate', 'controlSocket', 'restartTime', 'clusterId'];

class Checker {
  problems: string[] = [];
  bad(path: string, msg: string): undefined {
    this.problems.push(`${path}: ${msg}`);
    return undefined;
  }
  unknownKeys(o: Obj, allowed: string[], path: string): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.bad(path ? `${path}.${k}` : k, `unknown field (allowed: ${allowed.join(', ')})`);
  }
  int(v: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) return this.bad(path, `must be an integer ${min}..${max}, got ${JSON.stringify(v)}`);
    return v;
  }
  bool(v: unknown, path: string, fallback: boolean): boolean {
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') return this.bad(path, `must be true or false, got ${JSON.stringify(v)}`) ?? fallback;
    return v;
  }
  ip(v: unknown, path: string, version?: 4 | 6): string | undefined {
    // no zone IDs ("fe80::1%eth0"): isIP takes them, the speaker's address parsers do not
    if (typeof v !== 'string' || v.includes('%') || isIP(v) === 0 || (version && isIP(v) !== version)) {
      return this.bad(path, `must be an IP${version ? `v${version}` : ''} address (no zone ID), got ${JSON.stringify(v)}`);
    }
    return canonicalAddress(v); // one text form (RFC 5952), as the codec writes addresses
  }
  str(v: unknown, path: string): string | undefined {
    if (typeof v !== 'string' || v === '') return this.bad(path, `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }
}

/**
 * A prefix string "10.0.0.0/24" / "fd00::/64": one the speaker's own parser
 * (parsePrefix, as originate() uses it) takes, so a file that passes here cannot
 * make a reload throw half-applied. No zone IDs ("fe80::1%eth0/64").
 */
function checkPrefix(c: Checker, v: unknown, path: string): string | undefined {
  if (typeof v !== 'string') return c.bad(path, `must be a prefix like 10.0.0.0/24, got ${JSON.stringify(v)}`);
  const [addr, len, extra] = v.split('/');
  const ver = isIP(addr ?? '');
  const n = Number(len);
  if (extra !== undefined || ver === 0 || v.includes('%') || !/^\d+$/.test(len ?? '') || n > (ver === 4 ? 32 : 128) || parsePrefix(v) === undefined) {
    return c.bad(path, `must be a prefix like 10.0.0.0/24, got ${JSON.stringify(v)}`);
  }
  return v;
}

function checkCommunity(c: Checker, v: unknown, path: string): string | undefined {
  if (typeof v === 'string' && ['NO_EXPORT', 'NO_ADVERTISE', 'NO_EXPORT_SUBCONFED'].includes(v)) return v;
  if (typeof v === 'string') {
    const p = v.split(':').map((x) => (/^\d+$/.test(x) ? Number(x) : NaN));
    if (p.length === 2 && p.every((x) => x <= 0xffff)) return v;
    if (p.length === 3 && p.every((x) => x <= 0xffffffff)) return v; // large community
  }
  return c.bad(path, `must be "ASN:VALUE" (16-bit each), "A:B:C" (large) or a well-known name, got ${JSON.stringify(v)}`);
}

function checkNeighbor(c: Checker, n: unknown, path: string): NeighborConfig | undefined {
  if (!isObj(n)) return c.bad(path, 'must be a mapping');
  c.unknownKeys(n, NEIGHBOR_KEYS, path);
  const address = c.ip(n.address, `${path}.address`);
  const asn = c.int(n.asn, `${path}.asn`, 1, 0xffffffff);
  const holdTime = n.holdTime === undefined ? 90 : c.int(n.holdTime, `${path}.holdTime`, 0, 65535);
  if (holdTime !== undefined && holdTime > 0 && holdTime < 3) c.bad(`${path}.holdTime`, 'must be 0 or at least 3 (RFC 4271 §4.2)');
  let families: Family[] = address && isIP(address) === 6 ? ['ipv6'] : ['ipv4'];
  if (n.families !== undefined) {
    if (!Array.isArray(n.families) || n.families.length === 0 || !n.families.every((f) => f === 'ipv4' || f === 'ipv6')) {
      c.bad(`${path}.families`, `must be a non-empty list of ipv4, ipv6, got ${JSON.stringify(n.families)}`);
    } else families = [...new Set(n.families as Family[])];
  }
  const out: NeighborConfig = {
    address: address ?? '', asn: asn ?? 0, holdTime: holdTime ?? 90, families,
    passive: c.bool(n.passive, `${path}.passive`, false),
    routeReflectorClient: c.bool(n.routeReflectorClient, `${path}.routeReflectorClient`, false),
    nextHopSelf: c.bool(n.nextHopSelf, `${path}.nextHopSelf`, false),
    gracefulRestart: c.bool(n.gracefulRestart, `${path}.gracefulRestart`, false),
    port: n.port === undefined ? 179 : c.int(n.port, `${path}.port`, 1, 65535) ?? 179,
  };
  if (n.password !== undefined) {
    const p = c.str(n.password, `${path}.password`);
    if (p !== undefined && Buffer.byteLength(p) > 80) c.bad(`${path}.password`, 'must be at most 80 bytes (TCP_MD5SIG_MAXKEYLEN)');
    if (p !== undefined) out.password = p;
  }
  if (n.connectRetry !== undefined) out.connectRetry = c.int(n.connectRetry, `${path}.connectRetry`, 1, 65535);
  if (n.maxPrefixes !== undefined) out.maxPrefixes = c.int(n.maxPrefixes, `${path}.maxPrefixes`, 1, 100_000_000);
  if (n.ttlSecurity !== undefined) out.ttlSecurity = c.int(n.ttlSecurity, `${path}.ttlSecurity`, 1, 254);
  if (n.localAddress !== undefined) out.localAddress = c.ip(n.localAddress, `${path}.localAddress`);
  return out;
}

export function validateConfig(doc: unknown): SpeakerConfig {
  const c = new Checker();
  if (!isObj(doc)) throw new ConfigError(['(top level): must be a mapping with asn, routerId, neighbors']);
  c.unknownKeys(doc, TOP_KEYS, '');
  const asn = c.int(doc.asn, 'asn', 1, 0xffffffff);
  const routerId = c.ip(doc.routerId, 'routerId', 4);
  if (routerId === '0.0.0.0') c.bad('routerId', 'must not be 0.0.0.0 (RFC 6286: a non-zero BGP Identifier)');
  let listen: SpeakerConfig['listen'] = { address: '0.0.0.0', port: 179 };
  if (doc.listen === false || doc.listen === null) listen = null;
  else if (doc.listen !== undefined) {
    if (!isObj(doc.listen)) c.bad('listen', 'must be a mapping {address, port} or false');
    else {
      c.unknownKeys(doc.listen, ['address', 'port'], 'listen');
      listen = {
        address: doc.listen.address === undefined ? '0.0.0.0' : c.ip(doc.listen.address, 'listen.address') ?? '0.0.0.0',
        port: doc.listen.port === undefined ? 179 : c.int(doc.listen.port, 'listen.port', 0, 65535) ?? 179,
      };
    }
  }
  const neighbors: NeighborConfig[] = [];
  if (doc.neighbors !== undefined && !Array.isArray(doc.neighbors)) c.bad('neighbors', 'must be a list');
  (Array.isArray(doc.neighbors) ? doc.neighbors : []).forEach((n, i) => {
    const nb = checkNeighbor(c, n, `neighbors[${i}]`);
    if (nb) {
      if (neighbors.some((o) => o.address === nb.address)) c.bad(`neighbors[${i}].address`, `duplicate neighbor ${nb.address}`);
      neighbors.push(nb);
    }
  });
  const originate: OriginateConfig[] = [];
  if (doc.originate !== undefined && !Array.isArray(doc.originate)) c.bad('originate', 'must be a list');
  (Array.isArray(doc.originate) ? doc.originate : []).forEach((o, i) => {
    const path = `originate[${i}]`;
    const entry = typeof o === 'string' ? { prefix: o } : o;
    if (!isObj(entry)) return void c.bad(path, 'must be a prefix or {prefix, communities, nextHop}');
    c.unknownKeys(entry, ['prefix', 'communities', 'nextHop'], path);
    const prefix = checkPrefix(c, entry.prefix, `${path}.prefix`);
    const communities: string[] = [];
    if (entry.communities !== undefined && !Array.isArray(entry.communities)) c.bad(`${path}.communities`, 'must be a list');
    (Array.isArray(entry.communities) ? entry.communities : []).forEach((x, j) => {
      const v = checkCommunity(c, x, `${path}.communities[${j}]`);
      if (v) communities.push(v);
    });
    const oc: OriginateConfig = { prefix: prefix ?? '', communities };
    if (entry.nextHop !== undefined) oc.nextHop = c.ip(entry.nextHop, `${path}.nextHop`);
    originate.push(oc);
  });
  const out: SpeakerConfig = {
    asn: asn ?? 0, routerId: routerId ?? '', listen, neighbors, originate,
    restartTime: doc.restartTime === undefined ? 120 : c.int(doc.restartTime, 'restartTime', 1, 4095) ?? 120,
  };
  if (doc.controlSocket !== undefined) out.controlSocket = c.str(doc.controlSocket, 'controlSocket');
  if (doc.clusterId !== undefined) out.clusterId = c.ip(doc.clusterId, 'clusterId', 4);
  if (c.problems.length > 0) throw new ConfigError(c.problems);
  return out;
}

/**
 * Settings a reload cannot apply (the speaker's identity, announced in every OPEN,
 * and the sockets it was started with): the ones that differ between the running
 * and the new config. The runtime keeps their running values and warns.
 */
export const RESTART_ONLY = ['asn', 'routerId', 'clusterId', 'restartTime', 'listen', 'controlSocket'] as const;

export function restartOnlyChanges(prev: SpeakerConfig, next: SpeakerConfig): (typeof RESTART_ONLY)[number][] {
  return RESTART_ONLY.filter((k) => JSON.stringify(prev[k] ?? null) !== JSON.stringify(next[k] ?? null));
}

/** Parses YAML text and validates it. */
export function parseConfig(text: string): SpeakerConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError([`(yaml): ${(err as Error).message.split('\n')[0]}`]);
  }
  return validateConfig(doc);
}
