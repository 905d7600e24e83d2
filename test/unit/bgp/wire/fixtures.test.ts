/**
 * Real sessions captured between BIRD, GoBGP, FRR and ExaBGP (fixtures/capture.ts):
 * every captured stream decodes with the options its two OPENs negotiate, and the
 * key fields of every message agree with what Debian's tshark decodes from the pcap.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeMessage, splitFrames, type Capability, type CodecOptions, type Message, type OpenMessage, type Prefix,
} from '../../../../bgp/wire/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const streams = readdirSync(dir).filter((f) => f.endsWith('.bgp')).sort();
const pcaps = readdirSync(dir).filter((f) => f.endsWith('.pcap')).sort();
const tshark = spawnSync('tshark', ['--version']).status === 0;

interface StreamFile { file: string; scenario: string; stream: number; sender: string; frames: Uint8Array[] }

const files: StreamFile[] = streams.map((file) => {
  const [scenario, stream, sender] = file.replace(/\.bgp$/, '').split('.') as [string, string, string];
  const r = splitFrames(readFileSync(join(dir, file)));
  if (r.error || r.rest.length > 0) throw new Error(`${file}: framing error or trailing bytes`);
  return { file, scenario, stream: Number(stream), sender, frames: r.frames };
});

function openOf(f: StreamFile | undefined): OpenMessage | undefined {
  const first = f?.frames[0];
  if (!first) return undefined;
  const r = decodeMessage(first);
  return r.ok && r.message.type === 'OPEN' ? r.message : undefined;
}

const cap = <N extends Capability['name']>(o: OpenMessage | undefined, name: N) =>
  o?.capabilities.find((c): c is Extract<Capability, { name: N }> => c.name === name);

/** What the two OPENs of a TCP stream negotiate for messages `from` sends `to` (RFC 6793, RFC 7911). */
function negotiated(from: OpenMessage | undefined, to: OpenMessage | undefined): CodecOptions {
  const as4 = cap(from, 'FOUR_OCTET_AS') !== undefined && (to === undefined || cap(to, 'FOUR_OCTET_AS') !== undefined);
  const addPath = new Set<string>();
  for (const f of cap(from, 'ADD_PATH')?.families ?? []) {
    const peer = cap(to, 'ADD_PATH')?.families.find((p) => p.afi === f.afi && p.safi === f.safi);
    if ((f.sendReceive & 2) !== 0 && peer !== undefined && (peer.sendReceive & 1) !== 0) addPath.add(`${f.afi}/${f.safi}`);
  }
  return { as4, addPath };
}

function optionsFor(f: StreamFile): CodecOptions {
  const other = files.find((g) => g.scenario === f.scenario && g.stream === f.stream && g.sender !== f.sender);
  return negotiated(openOf(f), openOf(other));
}

// ---- a summary of key fields, from our decode and from tshark's JSON ----
interface Summary {
  type: number;
  length: number;
  myAs?: number; holdTime?: number; bgpId?: string;
  attrCodes?: number[]; origin?: number; nextHop?: string; mpNextHops?: string[]; asns?: number[];
  prefixes?: string[]; pathIds?: number[]; communities?: number; largeCommunities?: number; med?: number;
  errorCode?: number;
}

const TYPE_NUM: Record<Message['type'], number> = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, 'ROUTE-REFRESH': 5 };
const ORIGIN_NUM = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
const KEY_OF_CODE: Record<number, string> = {
  1: 'origin', 2: 'asPath', 3: 'nextHop', 4: 'med', 5: 'localPref', 6: 'atomicAggregate', 7: 'aggregator', 8: 'communities',
  9: 'originatorId', 10: 'clusterList', 14: 'mpReach', 15: 'mpUnreach', 16: 'extendedCommunities', 17: 'as4Path', 18: 'as4Aggregator', 32: 'largeCommunities',
};

function ours(m: Message, length: number): Summary {
  const s: Summary = { type: TYPE_NUM[m.type], length };
  if (m.type === 'OPEN') Object.assign(s, { myAs: m.myAs, holdTime: m.holdTime, bgpId: m.bgpId });
  if (m.type === 'NOTIFICATION') s.errorCode = m.code;
  if (m.type !== 'UPDATE') return s;
  const a = m.attributes as Record<string, unknown>;
  s.attrCodes = [
    ...Object.entries(KEY_OF_CODE).filter(([, k]) => a[k] !== undefined).map(([c]) => Number(c)),
    ...(m.attributes.unknown ?? []).map((u) => u.code),
  ].sort((x, y) => x - y);
  if (m.attributes.origin) s.origin = ORIGIN_NUM[m.attributes.origin];
  if (m.attributes.nextHop) s.nextHop = m.attributes.nextHop;
  if (m.attributes.mpReach) s.mpNextHops = m.attributes.mpReach.nextHops;
  if (m.attributes.asPath) s.asns = m.attributes.asPath.flatMap((g) => g.asns);
  const all: Prefix[] = [...m.withdrawn, ...m.nlri, ...(m.attributes.mpReach?.nlri ?? []), ...(m.attributes.mpUnreach?.withdrawn ?? [])];
  s.prefixes = all.map((p) => `${p.addr}/${p.len}`).sort();
  s.pathIds = all.filter((p) => p.pathId !== undefined).map((p) => p.pathId!).sort();
  if (m.attributes.communities) s.communities = m.attributes.communities.length;
  if (m.attributes.largeCommunities) s.largeCommunities = m.attributes.largeCommunities.length;
  if (m.attributes.med !== undefined) s.med = m.attributes.med;
  return s;
}

type J = { [k: string]: unknown };
/** Leaf (key, value) pairs in document order; arrays (from --no-duplicate-keys) spread. */
function leaves(o: unknown, out: [string, string][] = [], key = ''): [string, string][] {
  if (Array.isArray(o)) for (const v of o) leaves(v, out, key);
  else if (o !== null && typeof o === 'object') for (const [k, v] of Object.entries(o)) leaves(v, out, k);
  else out.push([key, String(o)]);
  return out;
}
const all = (pairs: [string, string][], k: string | RegExp) => pairs.filter(([key]) => (typeof k === 'string' ? key === k : k.test(key))).map(([, v]) => v);

function theirs(m: J): Summary {
  const top = leaves(Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'bgp.update.path_attributes')));
  const s: Summary = { type: Number(m['bgp.type']), length: Number(m['bgp.length']) };
  if (s.type === 1) Object.assign(s, { myAs: Number(m['bgp.open.myas']), holdTime: Number(m['bgp.open.holdtime']), bgpId: String(m['bgp.open.identifier']) });
  if (s.type === 3) s.errorCode = Number(m['bgp.notify.major_error']);
  if (s.type !== 2) return s;
  const attrsRaw = (m['bgp.update.path_attributes'] as J | undefined)?.['bgp.update.path_attribute'];
  const attrs = (Array.isArray(attrsRaw) ? attrsRaw : attrsRaw ? [attrsRaw] : []).map((a) => leaves(a));
  s.attrCodes = attrs.map((a) => Number(all(a, 'bgp.update.path_attribute.type_code')[0])).sort((x, y) => x - y);
  const byCode = (c: number) => attrs.find((a) => Number(all(a, 'bgp.update.path_attribute.type_code')[0]) === c);
  const origin = byCode(1);
  if (origin) s.origin = Number(all(origin, 'bgp.update.path_attribute.origin')[0]);
  const nh = byCode(3);
  if (nh) s.nextHop = all(nh, 'bgp.update.path_attribute.next_hop')[0]!;
  const mp = byCode(14);
  if (mp) s.mpNextHops = all(mp, /^bgp\.update\.path_attribute\.mp_reach_nlri\.next_hop\.(ipv6|ipv4)(\.link_local)?$/);
  const asPath = byCode(2);
  if (asPath) s.asns = all(asPath, /as_path_segment\.as[24]$/).map(Number);
  const every = [...top, ...attrs.flat()];
  const prefixes: string[] = [];
  let len: string | undefined;
  for (const [k, v] of every) {
    if (k === 'bgp.prefix_length') len = v;
    else if (/(^bgp\.nlri_prefix|_prefix)$/.test(k) && len !== undefined) { prefixes.push(`${v}/${len}`); len = undefined; }
  }
  s.prefixes = prefixes.sort();
  s.pathIds = all(every, 'bgp.nlri_path_id').map(Number).sort();
  const comm = byCode(8);
  if (comm) s.communities = all(comm, /community_as$|community_wellknown$/).length;
  const large = byCode(32);
  if (large) s.largeCommunities = all(large, 'bgp.large_communities.ga').length;
  const med = byCode(4);
  if (med) s.med = Number(all(med, 'bgp.update.path_attribute.multi_exit_disc')[0]);
  return s;
}

describe('captured sessions (BIRD, GoBGP, FRR, ExaBGP)', () => {
  it('has the fixtures capture.ts wrote', () => {
    console.log(`fixtures: ${streams.length} message streams, ${pcaps.length} pcaps`);
    expect(streams.length).toBe(14);
    expect(pcaps).toEqual(['bird-frr-addpath.pcap', 'bird-frr-refresh.pcap', 'bird-gobgp.pcap', 'frr-exabgp.pcap']);
    expect(new Set(files.map((f) => f.sender))).toEqual(new Set(['bird', 'gobgp', 'frr', 'exabgp']));
  });

  it.each(streams)('%s decodes completely with the negotiated options', (name) => {
    const f = files.find((x) => x.file === name)!;
    const opts = optionsFor(f);
    expect(f.frames.length).toBeGreaterThan(0);
    for (const frame of f.frames) {
      const r = decodeMessage(frame, opts);
      if (!r.ok) throw new Error(`${name}: ${r.error.message}`);
      expect(r.discarded).toBeUndefined();
    }
  });

  it('covers what the daemons put on the wire: RFC 8950 + ADD-PATH, AS_TRANS + AS4_PATH, link-local next hops, AS_SET, Cease, ROUTE-REFRESH', () => {
    const decoded = files.flatMap((f) => f.frames.map((fr) => decodeMessage(fr, optionsFor(f)))).flatMap((r) => (r.ok ? [r.message] : []));
    const updates = decoded.filter((m): m is Extract<Message, { type: 'UPDATE' }> => m.type === 'UPDATE');
    expect(updates.some((u) => u.attributes.mpReach?.afi === 1 && u.attributes.mpReach.nlri.some((p) => p.pathId !== undefined))).toBe(true);
    expect(updates.some((u) => u.attributes.as4Path !== undefined && u.attributes.asPath?.[0]?.asns.includes(23456))).toBe(true);
    expect(updates.some((u) => u.attributes.mpReach?.nextHops[1]?.startsWith('fe80:'))).toBe(true);
    expect(updates.some((u) => u.attributes.asPath?.some((s) => s.type === 'AS_SET'))).toBe(true);
    expect(decoded.some((m) => m.type === 'NOTIFICATION' && m.code === 6)).toBe(true);
    const refreshes = decoded.flatMap((m) => (m.type === 'ROUTE-REFRESH' ? [m.subtype] : []));
    expect(new Set(refreshes)).toEqual(new Set([0, 1, 2])); // plain, BoRR and EoRR (RFC 7313)
  });

  describe.skipIf(!tshark)(`agrees with tshark${tshark ? '' : ' (skipped: tshark is not installed)'}`, () => {
    it.each(pcaps)('%s', (pcap) => {
      const scenario = pcap.replace(/\.pcap$/, '');
      const r = spawnSync('tshark', ['-r', join(dir, pcap), '-Y', 'bgp', '-T', 'json', '--no-duplicate-keys'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(r.status).toBe(0);
      const packets = JSON.parse(r.stdout) as { _source: { layers: J } }[];
      // tshark's messages per (tcp stream, sender), in order
      const groups = new Map<string, Summary[]>();
      for (const p of packets) {
        const l = p._source.layers;
        const ipl = (l.ip ?? l.ipv6) as J;
        const src = String(ipl['ip.src'] ?? ipl['ipv6.src']);
        const key = `${(l.tcp as J)['tcp.stream']}|${src}`;
        const bgp = Array.isArray(l.bgp) ? (l.bgp as J[]) : [l.bgp as J];
        groups.set(key, [...(groups.get(key) ?? []), ...bgp.map(theirs)]);
      }
      const mine = files.filter((f) => f.scenario === scenario);
      expect(mine.length).toBe(groups.size);
      let compared = 0;
      for (const f of mine) {
        const opts = optionsFor(f);
        const summaries = f.frames.map((fr) => {
          const d = decodeMessage(fr, opts);
          if (!d.ok) throw new Error(d.error.message);
          return ours(d.message, fr.length);
        });
        const id = summaries[0]?.bgpId;
        const match = [...groups.entries()].find(([k, v]) => k.startsWith(`${f.stream}|`) && v[0]?.bgpId === id);
        expect(match, `${f.file}: no tshark stream ${f.stream} from ${id}`).toBeDefined();
        expect(summaries).toEqual(match![1]);
        compared += summaries.length;
      }
      expect(compared).toBe(packets.reduce((n, p) => n + (Array.isArray(p._source.layers.bgp) ? (p._source.layers.bgp as unknown[]).length : 1), 0));
    });
  });
});
