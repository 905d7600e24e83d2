/**
 * NodeCompiler: the compiler for one node, kept up to date as the cluster changes.
 * Pure (no I/O), stateful: it holds the snapshot, the valid policies and the last
 * rendered state, and treats rendered objects as immutable (copy-on-write), so the
 * apply layer can skip every chain and set that is the same object as before.
 *
 * A pod that is not local to the node only feeds set memberships: its add, change
 * or removal updates the members of the pod-selector and named-port sets it
 * enters or leaves — no chain changes (O(peers) work, O(changed sets) writes).
 * Anything else (a local pod, a policy, a namespace) recompiles the node.
 */
import { validatePolicies } from './compile.js';
import { renderNode } from './render/chains.js';
import { isPolicyPod, type NamespaceInfo, type PodInfo, type Snapshot } from './model/snapshot.js';
import type { Peer, Policy } from './model/types.js';
import { ipFamily } from './model/cidr.js';
import { peerIdentity, peerMatchesPod, podKey, resolveNode } from './resolve/resolve.js';
import type { NodeIR, RejectedPolicy } from './ir/types.js';
import type { FamilyRender, Rendered, RenderedSet } from './render/model.js';
import { setName, type IpFamily } from './render/names.js';

type PodsPeer = Extract<Peer, { kind: 'pods' }>;

export class NodeCompiler {
  private readonly pods = new Map<string, PodInfo>();
  private namespaces: NamespaceInfo[];
  /** IP → keys of the pods holding it (to keep members another pod still needs). */
  private readonly byIp = new Map<string, Set<string>>();
  private policies: Policy[] = [];
  private rejectedList: RejectedPolicy[] = [];
  private current!: Rendered;
  private irCache: NodeIR | null = null;
  /** Pod-selector peers in use: set identity → (peer, policy namespace). */
  private peers = new Map<string, { peer: PodsPeer; ns: string }>();
  /** Named ports in use: "name/PROTOCOL". */
  private named = new Set<string>();

  constructor(readonly node: string | null, snapshot: Snapshot, policyObjects: unknown[]) {
    this.namespaces = [...snapshot.namespaces];
    for (const p of snapshot.pods) this.put(p);
    this.setPolicies(policyObjects);
  }

  get rendered(): Rendered {
    return this.current;
  }

  get rejected(): RejectedPolicy[] {
    return this.rejectedList;
  }

  get ir(): NodeIR {
    this.irCache ??= resolveNode(this.snapshot(), this.policies, this.node);
    return this.irCache;
  }

  snapshot(): Snapshot {
    return { pods: [...this.pods.values()], namespaces: [...this.namespaces] };
  }

  private put(p: PodInfo): void {
    this.drop(podKey(p));
    this.pods.set(podKey(p), p);
    for (const ip of p.ips) {
      const keys = this.byIp.get(ip) ?? new Set<string>();
      keys.add(podKey(p));
      this.byIp.set(ip, keys);
    }
  }

  private drop(key: string): void {
    const old = this.pods.get(key);
    if (!old) return;
    this.pods.delete(key);
    for (const ip of old.ips) {
      const keys = this.byIp.get(ip);
      keys?.delete(key);
      if (keys?.size === 0) this.byIp.delete(ip);
    }
  }

  setPolicies(objects: unknown[]): Rendered {
    const v = validatePolicies(objects);
    this.policies = v.policies;
    this.rejectedList = v.rejected;
    return this.recompile();
  }

  setNamespace(ns: NamespaceInfo): Rendered {
    this.namespaces = [...this.namespaces.filter((n) => n.name !== ns.name), ns];
    return this.recompile();
  }

  upsertPod(pod: PodInfo): Rendered {
    const old = this.pods.get(podKey(pod));
    this.put(pod);
    if (this.isLocal(pod) || (old && this.isLocal(old))) return this.recompile();
    return this.updateMemberships(old, pod);
  }

  removePod(namespace: string, name: string): Rendered {
    const old = this.pods.get(`${namespace}/${name}`);
    if (!old) return this.current;
    this.drop(podKey(old));
    if (this.isLocal(old)) return this.recompile();
    return this.updateMemberships(old, undefined);
  }

  private isLocal(p: PodInfo): boolean {
    return isPolicyPod(p) && (this.node === null || p.node === this.node);
  }

  private recompile(): Rendered {
    const ir = resolveNode(this.snapshot(), this.policies, this.node);
    this.irCache = ir;
    this.peers.clear();
    this.named.clear();
    const byKey = new Map(this.policies.map((p) => [`${p.namespace}/${p.name}`, p]));
    for (const d of ir.policies) {
      const pol = byKey.get(d.policy) as Policy;
      const rules = d.direction === 'ingress' ? pol.ingress : pol.egress;
      for (const r of rules) {
        if (r.peers !== 'all') for (const p of r.peers) if (p.kind === 'pods') this.peers.set(peerIdentity(p, pol.namespace), { peer: p, ns: pol.namespace });
        if (r.ports !== 'all') for (const p of r.ports) if (p.kind === 'named') this.named.add(`${p.name}/${p.protocol}`);
      }
    }
    this.current = renderNode(ir);
    return this.current;
  }

  /** Set members a (remote) pod contributes: set name → entries. */
  private contributions(pod: PodInfo | undefined): Map<string, string[]> {
    const out = new Map<string, string[]>();
    if (!pod || !isPolicyPod(pod) || pod.ips.length === 0) return out;
    const add = (name: string, entry: string): void => {
      out.set(name, [...(out.get(name) ?? []), entry]);
    };
    const ns = this.namespaces.find((n) => n.name === pod.namespace);
    for (const [id, { peer, ns: policyNs }] of this.peers) {
      if (!peerMatchesPod(peer, policyNs, pod, ns)) continue;
      for (const ip of pod.ips) add(setName('pods', id, ipFamily(ip) as IpFamily), ip);
    }
    for (const key of this.named) {
      const [name, protocol] = key.split('/') as [string, string];
      const cp = pod.ports.find((p) => p.name === name && p.protocol === protocol);
      if (cp) for (const ip of pod.ips) add(setName('named', key, ipFamily(ip) as IpFamily), `${ip},${protocol.toLowerCase()}:${cp.port}`);
    }
    return out;
  }

  private updateMemberships(old: PodInfo | undefined, pod: PodInfo | undefined): Rendered {
    this.irCache = null;
    const before = this.contributions(old);
    const after = this.contributions(pod);
    // Another pod with one of the same IPs (an address being handed over) keeps
    // contributing its members: they must not be removed.
    if (old) {
      const others = new Set(old.ips.flatMap((ip) => [...(this.byIp.get(ip) ?? [])]));
      others.delete(podKey(old));
      for (const key of others) {
        for (const [name, entries] of this.contributions(this.pods.get(key))) after.set(name, [...(after.get(name) ?? []), ...entries]);
      }
    }
    const names = new Set([...before.keys(), ...after.keys()]);
    if (names.size === 0) return this.current;
    const patch = (f: FamilyRender): FamilyRender => {
      let changed = false;
      const sets = f.sets.map((s): RenderedSet => {
        if (!names.has(s.name)) return s;
        const remove = new Set(before.get(s.name) ?? []);
        const addList = after.get(s.name) ?? [];
        for (const m of addList) remove.delete(m);
        const members = remove.size > 0 ? s.members.filter((m) => !remove.has(m)) : [...s.members];
        for (const m of addList) insertSorted(members, m);
        if (members.length === s.members.length && members.every((m, i) => m === s.members[i])) return s;
        changed = true;
        return { ...s, members };
      });
      return changed ? { ...f, sets } : f;
    };
    this.current = { v4: patch(this.current.v4), v6: patch(this.current.v6) };
    return this.current;
  }
}

/** Inserts into a sorted copy; the array is new, the input untouched. */
function insertSorted(list: string[], item: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as string) < item) lo = mid + 1;
    else hi = mid;
  }
  if (list[lo] !== item) list.splice(lo, 0, item);
}
