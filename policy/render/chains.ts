/**
 * IR → chains and ipsets (as data), one family at a time. Structure (filter table):
 *
 *   FORWARD → MARGAY-FORWARD: conntrack RELATED,ESTABLISHED accept for workload
 *     interfaces; `-i mgw+` → MARGAY-FROM-WL (egress of the sending pod), then
 *     `-o mgw+` → MARGAY-TO-WL (ingress of the receiving pod); both passed → ACCEPT.
 *   INPUT → MARGAY-INPUT: replies accepted, INVALID dropped (as in MARGAY-FORWARD);
 *     pod → its own node is subject to the pod's egress policy.
 *   MARGAY-FROM-WL / MARGAY-TO-WL: one `-i IFACE -g MARGAY-FW-…` / `-o IFACE -g
 *     MARGAY-TW-…` per local pod; the last rule drops any other `mgw+` interface, so
 *     a pod margay has not programmed yet carries nothing (fail closed); an
 *     interface two local pods claim is dropped for both (resolve marks the clash).
 *   MARGAY-TW-/FW-<pod>: (FW first drops sources other than the pod's address; a
 *     pod with several addresses of the family jumps to MARGAY-FS-<pod> for that)
 *     not isolated → RETURN; isolated → clear the accept mark, jump to each
 *     selecting policy's chain, RETURN when one set the mark, else DROP.
 *   MARGAY-PI-/PE-<policy>: one rule per (peer, port) of each rule, setting the mark.
 *   OUTPUT → MARGAY-OUTPUT → MARGAY-HOST-WL: the node may always reach a known local
 *     pod (Kubernetes: a pod cannot block its own node); unknown mgw+ → DROP.
 */
import type { NodeIR, PeerIR, PolicyDirIR, PortIR, WorkloadIR } from '../ir/types.js';
import { cidrContains, formatCidr, ipFamily, parseCidr, splitZero, type Cidr } from '../model/cidr.js';
import type { Direction } from '../model/types.js';
import { WORKLOAD_IFACE_PREFIX } from '../resolve/interface-name.js';
import type { FamilyRender, Rendered, RenderedChain, RenderedRule, RenderedSet } from './model.js';
import { CHAINS, policyChainName, setName, sourceChainName, workloadChainName, type IpFamily } from './names.js';

export const ACCEPT_MARK = '0x40000/0x40000';
const CLEAR_MARK = '0x0/0x40000';
const WL = `${WORKLOAD_IFACE_PREFIX}+`;

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

class SetBook {
  sets = new Map<string, RenderedSet>();
  add(s: RenderedSet): string {
    if (!this.sets.has(s.name)) this.sets.set(s.name, s);
    return s.name;
  }
}

/** Family of a canonical IP text from the IR (cheap: no parsing). */
const familyOf = (ip: string): IpFamily => (ip.includes(':') ? 6 : 4);

function peerMatches(peer: PeerIR, dir: Direction, family: IpFamily, book: SetBook): string[] | undefined {
  const side = dir === 'ingress' ? 'src' : 'dst';
  if (peer.kind === 'pods') {
    const name = setName('pods', peer.id, family);
    if (!book.sets.has(name)) {
      book.add({ name, type: 'hash:ip', family, members: peer.ips.filter((ip) => familyOf(ip) === family), comment: `pods ${peer.id}` });
    }
    return ['-m', 'set', '--match-set', name, side];
  }
  if (ipFamily(peer.cidr.split('/')[0] as string) !== family) return undefined;
  if (peer.except.length === 0) return [dir === 'ingress' ? '-s' : '-d', peer.cidr];
  const members = netSetMembers(peer.cidr, peer.except);
  const id = `${peer.cidr} except ${peer.except.join(',')}`;
  const name = book.add({ name: setName('net', id, family), type: 'hash:net', family, members, comment: `ipBlock ${id}` });
  return ['-m', 'set', '--match-set', name, side];
}

/**
 * hash:net members for cidr minus except. hash:net cannot hold /0 (split into two
 * /1s); `nomatch` entries carve out the except CIDRs: the most specific entry
 * decides, so a nomatch wins inside it. The kernel keys an element by its CIDR
 * alone (nomatch is a flag, cleared by a plain `add -exist`), so no CIDR may be
 * listed both plain and nomatch: a /1 half equal to an except entry is left out,
 * and so is every except entry inside a half left out (nothing there to carve).
 * Members are in canonical form (as the kernel lists them), each network once.
 */
export function netSetMembers(cidrText: string, except: readonly string[]): string[] {
  const cidr = parseCidr(cidrText);
  const parsed = except.map(parseCidr);
  if (!cidr || parsed.some((c) => c === undefined)) return [...new Set([cidrText, ...except.map((e) => `${e} nomatch`)])].sort(byString);
  // canonical text (host bits cleared, RFC 5952), as the kernel lists elements: any
  // other spelling would never compare equal on reconcile; one element per network
  const excepts = [...new Map((parsed as Cidr[]).map((c) => [formatCidr(c), c])).entries()].map(([text, c]) => ({ text, c }));
  const same = (a: Cidr, b: Cidr): boolean => a.prefix === b.prefix && cidrContains(a, b);
  const kept = splitZero(cidr).filter((h) => !excepts.some((e) => same(h, e.c)));
  const carve = excepts.filter((e) => kept.some((h) => cidrContains(h, e.c) && !same(h, e.c)));
  return [...kept.map(formatCidr), ...carve.map((e) => `${e.text} nomatch`)].sort(byString);
}

function portMatches(port: PortIR, family: IpFamily, book: SetBook): string[] {
  const proto = port.protocol.toLowerCase();
  const base = ['-p', proto];
  if (port.kind === 'any') return base;
  if (port.kind === 'range') {
    return [...base, '-m', proto, '--dport', port.from === port.to ? String(port.from) : `${port.from}:${port.to}`];
  }
  const name = setName('named', `${port.name}/${port.protocol}`, family);
  if (!book.sets.has(name)) {
    const members = port.members.filter((m) => familyOf(m.ip) === family).map((m) => `${m.ip},${proto}:${m.port}`).sort(byString);
    book.add({ name, type: 'hash:ip,port', family, members, comment: `named port ${port.name}/${port.protocol}` });
  }
  return [...base, '-m', 'set', '--match-set', name, 'dst,dst'];
}

function renderPolicyChain(p: PolicyDirIR, family: IpFamily, book: SetBook): RenderedChain {
  const rules: RenderedRule[] = [];
  for (const r of p.rules) {
    const peers = r.peers === 'all' ? [[]] : r.peers.map((x) => peerMatches(x, p.direction, family, book)).filter((x): x is string[] => x !== undefined);
    const ports = r.ports === 'all' ? [[]] : r.ports.map((x) => portMatches(x, family, book));
    for (const pe of peers) {
      for (const po of ports) {
        rules.push({ args: [...pe, ...po, '-j', 'MARK', '--set-xmark', ACCEPT_MARK], comment: `${p.policy} ${p.direction}[${r.index}]` });
      }
    }
  }
  return { name: policyChainName(p.policy, p.direction), rules };
}

/**
 * Anti-spoofing, first in a pod's egress chain: a packet from the pod must carry
 * one of the pod's own addresses of its family (else another pod's policies would
 * see a forged peer). No address of the family yet: nothing of that family leaves.
 * One address: `! -s ADDR -j DROP`. Several addresses of one family: a jump to the
 * pod's source chain (`sourceChain`), which RETURNs for each own address and drops
 * the rest — `! -s` takes one address only.
 */
function sourceCheck(w: WorkloadIR, family: IpFamily): RenderedRule[] {
  const own = w.ips.filter((ip) => familyOf(ip) === family);
  if (own.length === 1) return [{ args: ['!', '-s', own[0] as string, '-j', 'DROP'], comment: `${w.key}: source is not the pod's address` }];
  if (own.length === 0) return [{ args: ['-j', 'DROP'], comment: `${w.key}: no IPv${family} address yet` }];
  return [{ args: ['-j', sourceChainName(w.key)], comment: `${w.key}: source must be one of the pod's addresses` }];
}

/** MARGAY-FS-<pod>, only for a pod with several addresses of this family: own sources RETURN, the rest DROP. */
function sourceChain(w: WorkloadIR, family: IpFamily): RenderedChain[] {
  const own = w.ips.filter((ip) => familyOf(ip) === family);
  if (own.length < 2) return [];
  const rules: RenderedRule[] = own.map((ip) => ({ args: ['-s', ip, '-j', 'RETURN'], comment: `${w.key}: own address` }));
  rules.push({ args: ['-j', 'DROP'], comment: `${w.key}: source is not one of the pod's addresses` });
  return [{ name: sourceChainName(w.key), rules }];
}

function renderWorkloadChain(w: WorkloadIR, dir: Direction, family: IpFamily): RenderedChain {
  const ids = dir === 'ingress' ? w.ingress : w.egress;
  const name = workloadChainName(w.key, dir);
  const rules: RenderedRule[] = dir === 'egress' ? sourceCheck(w, family) : [];
  if (ids === null) return { name, rules: [...rules, { args: ['-j', 'RETURN'], comment: `${w.key} ${dir}: no policy selects it` }] };
  rules.push({ args: ['-j', 'MARK', '--set-xmark', CLEAR_MARK], comment: `${w.key} ${dir}` });
  for (const id of ids) {
    const policy = id.slice(0, id.lastIndexOf('/'));
    rules.push({ args: ['-j', policyChainName(policy, dir)], comment: `${w.key} ${dir} ${policy}` });
    rules.push({ args: ['-m', 'mark', '--mark', ACCEPT_MARK, '-j', 'RETURN'], comment: `${w.key} ${dir} allowed by ${policy}` });
  }
  rules.push({ args: ['-j', 'DROP'], comment: `${w.key} ${dir}: default deny` });
  return { name, rules };
}

/** Above this many local pods the dispatch becomes two-level (bucketed by the first hex digit). */
export const DISPATCH_BUCKET_THRESHOLD = 16;

/**
 * The dispatch chain of one direction (and its buckets): `-o IFACE -g MARGAY-TW-…`
 * per local pod, last rule dropping unknown `mgw+` interfaces. With many pods the
 * packet first picks a bucket by the interface's 4th character (`-o mgw3+ -g
 * MARGAY-TO-WL-3`), so it walks ~1/16 of the entries; every bucket ends in the same drop.
 */
type DispatchKind = Direction | 'host';

function renderDispatch(workloads: WorkloadIR[], kind: DispatchKind): RenderedChain[] {
  const flag = kind === 'egress' ? '-i' : '-o';
  const main = kind === 'ingress' ? CHAINS.toDispatch : kind === 'egress' ? CHAINS.fromDispatch : CHAINS.hostDispatch;
  // Host → pod: a known pod is always reachable from its node (RETURN to the caller).
  const entry = (w: WorkloadIR): RenderedRule => w.ifaceConflict !== undefined
    // fail closed: an interface several pods claim carries nothing, in any direction
    ? { args: [flag, w.iface, '-j', 'DROP'], comment: `${w.key}: interface also claimed by ${w.ifaceConflict.join(', ')}` }
    : kind === 'host'
    ? { args: [flag, w.iface, '-j', 'RETURN'], comment: `node to ${w.key}` }
    : { args: [flag, w.iface, '-g', workloadChainName(w.key, kind)], comment: `${kind === 'ingress' ? 'to' : 'from'} ${w.key}` };
  const drop: RenderedRule = { args: [flag, WL, '-j', 'DROP'], comment: 'unknown workload interface' };
  const bucketOf = (w: WorkloadIR): string | undefined => {
    const c = w.iface.charAt(WORKLOAD_IFACE_PREFIX.length);
    return w.iface.startsWith(WORKLOAD_IFACE_PREFIX) && /^[0-9a-f]$/.test(c) ? c : undefined;
  };
  if (workloads.length <= DISPATCH_BUCKET_THRESHOLD) return [{ name: main, rules: [...workloads.map(entry), drop] }];
  const buckets = new Map<string, WorkloadIR[]>();
  const direct: WorkloadIR[] = [];
  for (const w of workloads) {
    const b = bucketOf(w);
    if (b === undefined) direct.push(w);
    else buckets.set(b, [...(buckets.get(b) ?? []), w]);
  }
  const keys = [...buckets.keys()].sort();
  const sub = keys.map((k): RenderedChain => ({ name: `${main}-${k}`, rules: [...(buckets.get(k) ?? []).map(entry), drop] }));
  const rules = [
    ...direct.map(entry),
    ...keys.map((k): RenderedRule => ({ args: [flag, `${WORKLOAD_IFACE_PREFIX}${k}+`, '-g', `${main}-${k}`], comment: `interfaces ${WORKLOAD_IFACE_PREFIX}${k}…` })),
    drop,
  ];
  return [{ name: main, rules }, ...sub];
}

function renderFamily(ir: NodeIR, family: IpFamily): FamilyRender {
  const book = new SetBook();
  const policyChains = ir.policies.map((p) => renderPolicyChain(p, family, book));
  const sourceChains = ir.workloads.flatMap((w) => sourceChain(w, family));
  const workloadChains = ir.workloads.flatMap((w) => [renderWorkloadChain(w, 'ingress', family), renderWorkloadChain(w, 'egress', family)]);
  const [to, ...toBuckets] = renderDispatch(ir.workloads, 'ingress');
  const [from, ...fromBuckets] = renderDispatch(ir.workloads, 'egress');
  const [host, ...hostBuckets] = renderDispatch(ir.workloads, 'host');
  const established = ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'];
  const invalid = ['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP'];
  const forward: RenderedChain = {
    name: CHAINS.forward,
    rules: [
      { args: ['-i', WL, ...established], comment: 'reply traffic' },
      { args: ['-o', WL, ...established], comment: 'reply traffic' },
      { args: ['-i', WL, ...invalid], comment: 'invalid' },
      { args: ['-o', WL, ...invalid], comment: 'invalid' },
      { args: ['-i', WL, '-j', CHAINS.fromDispatch], comment: 'egress of the sending pod' },
      { args: ['-o', WL, '-j', CHAINS.toDispatch], comment: 'ingress of the receiving pod' },
      { args: ['-i', WL, '-j', 'MARK', '--set-xmark', CLEAR_MARK], comment: 'leave no mark behind' },
      { args: ['-o', WL, '-j', 'MARK', '--set-xmark', CLEAR_MARK], comment: 'leave no mark behind' },
      { args: ['-i', WL, '-j', 'ACCEPT'], comment: 'allowed by policy' },
      { args: ['-o', WL, '-j', 'ACCEPT'], comment: 'allowed by policy' },
    ],
  };
  const ndp = family === 6
    ? [133, 134, 135, 136].map((t) => ({ args: ['-i', WL, '-p', 'ipv6-icmp', '-m', 'icmp6', '--icmpv6-type', String(t), '-j', 'RETURN'], comment: 'neighbour discovery' }))
    : [];
  const input: RenderedChain = {
    name: CHAINS.input,
    rules: [
      { args: ['-i', WL, ...established], comment: 'reply traffic' },
      { args: ['-i', WL, ...invalid], comment: 'invalid' },
      ...ndp,
      { args: ['-i', WL, '-j', CHAINS.fromDispatch], comment: 'egress of the sending pod to its node' },
      { args: ['-i', WL, '-j', 'MARK', '--set-xmark', CLEAR_MARK], comment: 'leave no mark behind' },
    ],
  };
  // Node → local pod: always allowed for a known pod ("a pod cannot block its own
  // node"); an unknown workload interface gets nothing, even from the node.
  const output: RenderedChain = {
    name: CHAINS.output,
    rules: [{ args: ['-o', WL, '-j', CHAINS.hostDispatch], comment: 'the node to its pods' }],
  };
  const sets = [...book.sets.values()].sort((a, b) => byString(a.name, b.name));
  return {
    family,
    chains: [...policyChains, ...sourceChains, ...workloadChains, ...toBuckets, ...fromBuckets, ...hostBuckets, to as RenderedChain, from as RenderedChain, host as RenderedChain, forward, input, output],
    sets,
    hooks: [{ chain: 'FORWARD', target: CHAINS.forward }, { chain: 'INPUT', target: CHAINS.input }, { chain: 'OUTPUT', target: CHAINS.output }],
  };
}

export function renderNode(ir: NodeIR): Rendered {
  return { v4: renderFamily(ir, 4), v6: renderFamily(ir, 6) };
}
