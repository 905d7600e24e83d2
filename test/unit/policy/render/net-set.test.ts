import { describe, expect, it } from 'vitest';
import { resolveNode } from '../../../../policy/resolve/resolve.js';
import { netSetMembers, renderNode } from '../../../../policy/render/chains.js';
import { actualOf, planApply } from '../../../../policy/apply/plan.js';
import { cidrContainsIp, formatCidr, parseCidr, parseIp } from '../../../../policy/model/cidr.js';
import type { Rendered, RenderedSet } from '../../../../policy/render/model.js';
import { cluster, policy } from '../helpers.js';

// ipBlock with except → a hash:net set. The kernel keys an element by its CIDR alone
// (`nomatch` is a flag of the element), and `ipset add -exist` of the plain element
// clears the flag: a set listing one CIDR both plain and nomatch is only right after
// a fresh create, and a reconcile then turns the excluded range into an allowed one.

const V4 = ['0.0.0.0', '1.2.3.4', '10.0.0.1', '10.1.2.3', '127.255.255.255', '128.0.0.0', '192.168.1.1', '255.255.255.255'];
const V6 = ['::', '::1', '2001:db8::1', '7fff:ffff::1', '8000::', 'fd00::1', 'fd00:0:0:1::1', 'ffff::1'];

const CASES: [string, string[]][] = [
  ['0.0.0.0/0', ['0.0.0.0/1']],
  ['0.0.0.0/0', ['128.0.0.0/1']],
  ['0.0.0.0/0', ['0.0.0.0/1', '10.0.0.0/8']],
  ['0.0.0.0/0', ['128.0.0.0/1', '10.0.0.0/8', '192.168.0.0/16']],
  ['0.0.0.0/0', ['0.0.0.0/1', '128.0.0.0/1']],
  ['0.0.0.0/0', ['10.0.0.0/8']],
  ['10.0.0.0/8', ['10.1.0.0/16']],
  ['::/0', ['::/1']],
  ['::/0', ['8000::/1', 'fd00::/8']],
  ['::/0', ['::/1', 'fd00::/64']],
  // not in standard form (validation accepts host bits and upper case; the kernel keeps the canonical form)
  ['0.0.0.0/0', ['10.1.0.0/8']],
  ['::/0', ['FD00::/8']],
  ['10.0.0.0/8', ['10.1.0.0/16', '10.1.2.3/16']],
  ['10.1.2.3/8', ['10.1.0.0/16']],
  ['::/0', ['FD00::/8', 'fd00::/8', 'fd00::1/8']],
];

function netSet(cidr: string, except: string[]): { rendered: Rendered; set: RenderedSet } {
  const p = policy('x', 'blk', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr, except } }] }] });
  const rendered = renderNode(resolveNode(cluster(), [p], 'n1'));
  const sets = [...rendered.v4.sets, ...rendered.v6.sets].filter((s) => s.type === 'hash:net');
  expect(sets).toHaveLength(1);
  return { rendered, set: sets[0] as RenderedSet };
}

/** hash:net lookup: the most specific element containing the address decides; nomatch → not in the set. */
function inSet(members: readonly string[], ip: string): boolean | 'ambiguous' {
  const addr = parseIp(ip);
  if (!addr) throw new Error(`bad ip ${ip}`);
  let best: { prefix: number; match: boolean[] } | undefined;
  for (const m of members) {
    const [text, flag] = m.split(' ');
    const c = parseCidr(text as string);
    if (!c) throw new Error(`bad member ${m}`);
    if (!cidrContainsIp(c, addr)) continue;
    const match = flag !== 'nomatch';
    if (!best || c.prefix > best.prefix) best = { prefix: c.prefix, match: [match] };
    else if (c.prefix === best.prefix) best.match.push(match);
  }
  if (!best) return false;
  return best.match.length > 1 ? 'ambiguous' : (best.match[0] as boolean);
}

function inBlock(cidr: string, except: string[], ip: string): boolean {
  const a = parseIp(ip);
  const within = (c: string): boolean => a !== undefined && cidrContainsIp(parseCidr(c)!, a);
  return within(cidr) && !except.some(within);
}

describe('ipBlock except → hash:net members', () => {
  it.each(CASES)('%s except %j: no element both plain and nomatch, no /0, members = cidr minus except', (cidr, except) => {
    const { set } = netSet(cidr, except);
    const plain = set.members.filter((m) => !m.endsWith(' nomatch'));
    const nomatch = set.members.filter((m) => m.endsWith(' nomatch')).map((m) => m.replace(/ nomatch$/, ''));
    expect(plain.filter((m) => nomatch.includes(m))).toEqual([]);
    expect(set.members.filter((m) => m.split(' ')[0]?.endsWith('/0'))).toEqual([]);
    for (const ip of cidr.includes(':') ? V6 : V4) expect([ip, inSet(set.members, ip)]).toEqual([ip, inBlock(cidr, except, ip)]);
  });

  it.each(CASES)('%s except %j: a reconcile against the kernel after a fresh create writes nothing', (cidr, except) => {
    const { rendered, set } = netSet(cidr, except);
    // The kernel after creating the set from its members in order: one element per
    // CIDR, kept (and listed) in canonical form — host bits cleared, IPv6 lower case,
    // RFC 5952 — the last add deciding its nomatch flag.
    const kernel = new Map<string, string>();
    for (const m of set.members) {
      const [text, ...flags] = m.split(' ');
      const key = formatCidr(parseCidr(text as string)!);
      kernel.set(key, [key, ...flags].join(' '));
    }
    const actual = actualOf(rendered);
    actual.sets.set(set.name, { type: set.type, family: set.family, members: new Set(kernel.values()) });
    expect(planApply(rendered, actual).ipsetBefore).toBe('');
  });

  it('netSetMembers writes every member in canonical form, each network once, whatever spelling it is given', () => {
    expect(netSetMembers('0.0.0.0/0', ['10.1.0.0/8'])).toEqual(['0.0.0.0/1', '10.0.0.0/8 nomatch', '128.0.0.0/1']);
    expect(netSetMembers('::/0', ['FD00::/8'])).toEqual(['8000::/1', '::/1', 'fd00::/8 nomatch']);
    expect(netSetMembers('10.1.2.3/8', ['10.1.0.0/16', '10.1.2.3/16'])).toEqual(['10.0.0.0/8', '10.1.0.0/16 nomatch']);
    expect(netSetMembers('::/0', ['FD00:0::/8', 'fd00::1/8', '8000::/1'])).toEqual(['::/1']);
  });
});
