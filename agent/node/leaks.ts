/**
 * Leaked-address garbage collection for one node: the shell around the pure
 * two-pass check in agent/ipam/gc.ts (`judgeLeaks`). The runtime sometimes never
 * calls DEL (a lost call, a node rebooted with its disk kept, a runtime wiped): the
 * pod's addresses then stay allocated for ever. Each pass reads the IPAM blocks and
 * this node's links and judges this node's handles:
 * - every datastore (node-local, `judgeLocalLeaks`): a handle made for a pod whose
 *   host-side veth (the CNI plugin's deterministic name) has been missing in two
 *   passes in a row, for at least `graceMs`, leaked;
 * - kubernetes datastore only (Pod objects are the whole truth there; the file
 *   datastore's pods may have none): also a handle whose pod is in no snapshot in
 *   two passes in a row (`findLeaks` + `confirmLeaks`).
 * Never collected: this node's tunnel address handles (VXLAN, IPIP: the routes
 * pass replaces one no tunnelling pool covers any more, desired.ts
 * `allocateTunnels`) and those in `keep`, handles without pod attributes or (veth
 * check) container ID, other nodes' handles.
 *
 * A CNI ADD allocates before it creates the veth, so a handle whose ADD is still
 * running looks like a veth-less one. A veth leak is therefore looked at once more
 * and released inside the CNI server's queue for that handle (`exclusive`): after
 * any ADD or DEL in flight for it has finished, and before any that comes next, so
 * no ADD can allocate under the handle between that look and the release.
 *
 * Deleted Nodes (any node's collector, given the cluster's Node list): a node the
 * IPAM blocks name that has been missing from the list in two passes in a row and
 * for at least `nodeGraceMs` (default 5 minutes: a Node being re-created, or a list
 * racing its creation, frees nothing) is gone; everything allocated on it and its
 * blocks are freed (ipam/node-release.ts) and logged. Without a list (no datastore
 * snapshot yet), or with one lacking this node, nothing is judged. Several agents
 * doing it at once is safe: every write is a CAS, and each address is freed (and
 * reported) by one of them.
 *
 * State: gc.ts's `LeakState` (the absence record and the previous pod-absence
 * leaks) and the nodes' absence record, from pass to pass; a handle released or
 * found alive again is forgotten. Passes must not overlap (the caller's timer awaits
 * each).
 */
import type { Logger } from 'pino';
import { hostIfName } from '../cni/names.js';
import { forgetLeak, judgeGoneNodes, judgeLeaks, NO_LEAK_STATE, NO_NODE_ABSENCE, podKey, type JudgedLeak, type LeakState, type NodeAbsenceState } from '../ipam/gc.js';
import { releaseNodeAllocations, type NodeFreed } from '../ipam/node-release.js';
import type { IpamStore } from '../ipam/store.js';
import type { PodRef } from '../ipam/types.js';
import { tunnelHandles } from './desired.js';

export interface LeakGcOptions {
  node: string;
  store: IpamStore;
  /** frees a handle's addresses (the allocator's release); returns them */
  release: (handle: string) => Promise<string[]>;
  /** names of the interfaces on the node now */
  links: () => Iterable<string>;
  /** runs fn in the CNI server's request queue for the handle (CniServer.exclusive); absent: no CNI server on this agent */
  exclusive?: <T>(handle: string, fn: () => Promise<T>) => Promise<T>;
  /** never collected, besides this node's tunnel address handles */
  keep?: ReadonlySet<string>;
  graceMs: number;
  /** how long a node must have been missing from the Node list before its IPAM data is freed; default `NODE_GONE_GRACE_MS` */
  nodeGraceMs?: number;
  /** only a node seen in an earlier Node list of this run can be gone (the file datastore: Node objects are optional) */
  nodesOnlySeen?: boolean;
  log: Logger;
  now?: () => number;
}

/** A deleted Node's IPAM data is freed once it has been missing from the Node list this long. */
export const NODE_GONE_GRACE_MS = 5 * 60_000;

/** What a pass released: a leaked handle of this node, or a handle of a deleted node. */
export type Freed = JudgedLeak | (NodeFreed & { why: string });

export class LeakGc {
  private state: LeakState = NO_LEAK_STATE;
  private nodesAbsent: NodeAbsenceState = NO_NODE_ABSENCE;
  private running = false;

  private readonly keep: ReadonlySet<string>;

  constructor(private readonly o: LeakGcOptions) {
    this.keep = new Set([...tunnelHandles(o.node), ...(o.keep ?? [])]);
  }

  /**
   * One pass. `livePods`: every Pod of the cluster (kubernetes datastore), or
   * undefined where Pod objects are not the whole truth (files). `nodes`: the names
   * of the cluster's Nodes from the datastore snapshot, or undefined when there is
   * none (deleted nodes are then not judged). Returns what it released; each
   * release is logged with the pod (or node) and its addresses.
   */
  async pass(livePods: readonly PodRef[] | undefined, nodes?: Iterable<string>): Promise<Freed[]> {
    if (this.running) return [];
    this.running = true;
    try {
      return await this.run(livePods, nodes === undefined ? undefined : new Set(nodes));
    } finally {
      this.running = false;
    }
  }

  private async run(livePods: readonly PodRef[] | undefined, nodes: ReadonlySet<string> | undefined): Promise<Freed[]> {
    const blocks = (await this.o.store.list('block')).map((r) => r.value);
    const fromNodes = await this.freeGoneNodes(blocks, nodes);
    const judged = judgeLeaks(this.state, {
      node: this.o.node, blocks, links: new Set(this.o.links()), hostIf: hostIfName, keep: this.keep, now: this.now(), graceMs: this.o.graceMs,
      ...(livePods ? { livePods } : {}),
    });
    this.state = judged.state;
    const released: JudgedLeak[] = [];
    for (const leak of judged.leaks) {
      const releaseIt = async (): Promise<string[] | undefined> => {
        // a CNI request that finished meanwhile (re)created it: alive after all
        if (leak.hostIf !== undefined && new Set(this.o.links()).has(leak.hostIf)) return undefined;
        return this.o.release(leak.handle);
      };
      const addresses = this.o.exclusive ? await this.o.exclusive(leak.handle, releaseIt) : await releaseIt();
      this.state = forgetLeak(this.state, leak.handle);
      if (addresses === undefined) continue;
      const pod = podKey(leak.pod);
      this.o.log.warn({ pod, handle: leak.handle, addresses, why: leak.why }, `ipam: released the addresses of pod ${pod} (leaked: ${leak.why}; the runtime never called DEL)`);
      released.push({ ...leak, addresses: addresses.length > 0 ? addresses : leak.addresses });
    }
    return [...fromNodes, ...released];
  }

  /** Frees the IPAM data of nodes gone from the Node list (`judgeGoneNodes`). */
  private async freeGoneNodes(blocks: Parameters<typeof judgeGoneNodes>[1]['blocks'], nodes: ReadonlySet<string> | undefined): Promise<Freed[]> {
    const now = this.now();
    const graceMs = this.o.nodeGraceMs ?? NODE_GONE_GRACE_MS;
    const judged = judgeGoneNodes(this.nodesAbsent, { self: this.o.node, blocks, nodes, now, graceMs, ...(this.o.nodesOnlySeen ? { onlySeen: true } : {}) });
    this.nodesAbsent = judged.state;
    const out: Freed[] = [];
    for (const node of judged.gone) {
      const since = judged.state.absent[node]?.since ?? now;
      const why = `node ${node} missing from the Node list for ${Math.round((now - since) / 1000)} s`;
      let freed: NodeFreed[];
      try {
        freed = await releaseNodeAllocations(this.o.store, node);
      } catch (err) {
        // kept in the absence record: the next pass tries again (what landed stays freed)
        this.o.log.error({ node, err: err instanceof Error ? err.message : String(err) }, `ipam: freeing gone node ${node} failed; the next pass retries`);
        continue;
      }
      const addresses = freed.flatMap((f) => f.addresses);
      this.o.log.warn({ node, handles: freed.map((f) => f.handle), addresses, why },
        `ipam: node ${node} is gone (${why}): released ${addresses.length} addresses of ${freed.length} handles, and its blocks`);
      for (const f of freed) out.push({ ...f, why });
      const { [node]: _done, ...rest } = this.nodesAbsent.absent;
      this.nodesAbsent = { ...this.nodesAbsent, absent: rest };
    }
    return out;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }
}
