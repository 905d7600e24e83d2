/**
 * Leaked-address garbage collection for one node: the shell around the pure checks
 * in agent/ipam/gc.ts. The runtime sometimes never calls DEL (a lost call, a node
 * rebooted with its disk kept, a runtime wiped): the pod's addresses then stay
 * allocated for ever. Each pass reads the IPAM blocks and this node's links and
 * judges this node's handles:
 * - every datastore (node-local, `judgeLocalLeaks`): a handle made for a pod whose
 *   host-side veth (the CNI plugin's deterministic name) has been missing in two
 *   passes in a row, for at least `graceMs`, leaked;
 * - kubernetes datastore only (Pod objects are the whole truth there; the file
 *   datastore's pods may have none): also a handle whose pod is in no snapshot in
 *   two passes in a row (`findLeaks` + `confirmLeaks`).
 * Never collected: handles in `keep` (the VXLAN tunnel address's), handles without
 * pod attributes or (veth check) container ID, other nodes' handles.
 *
 * A CNI ADD allocates before it creates the veth, so a handle whose ADD is still
 * running looks like a veth-less one. Before releasing a veth leak, the collector
 * asks the CNI server (`settle`): it sends a CHECK for that handle over the CNI
 * socket, and the server runs requests for one handle one at a time, so the answer
 * comes only after any ADD or DEL in flight for it has finished; then the veth is
 * looked for once more. What remains is an ADD that starts for the same container
 * ID and interface in the milliseconds between that look and the release — a
 * runtime retrying ADD for a sandbox whose veth has been gone for two passes.
 *
 * State: the absence record and the previous pod-absence leaks, from pass to pass.
 * Passes must not overlap (the caller's timer awaits each).
 */
import { createConnection } from 'node:net';
import type { Logger } from 'pino';
import { hostIfName } from '../cni/names.js';
import { decodeResponse, WIRE_VERSION, type AgentRequest } from '../cni/wire.js';
import { confirmLeaks, findLeaks, ifNameOfHandle, judgeLocalLeaks, podKey, type AbsenceState, type Leak } from '../ipam/gc.js';
import type { IpamStore } from '../ipam/store.js';
import type { PodRef } from '../ipam/types.js';

export interface LeakGcOptions {
  node: string;
  store: IpamStore;
  /** frees a handle's addresses (the allocator's release); returns them */
  release: (handle: string) => Promise<string[]>;
  /** names of the interfaces on the node now */
  links: () => Iterable<string>;
  /** resolves once no CNI request for the handle is in flight; absent: no CNI server on this agent */
  settle?: (handle: string, containerId: string) => Promise<void>;
  /** never collected */
  keep: ReadonlySet<string>;
  graceMs: number;
  log: Logger;
  now?: () => number;
}

export interface ReleasedLeak extends Leak {
  why: string;
}

export class LeakGc {
  private absent: AbsenceState = {};
  private podLeaks: Leak[] = [];
  private running = false;

  constructor(private readonly o: LeakGcOptions) {}

  /**
   * One pass. `livePods`: every Pod of the cluster (kubernetes datastore), or
   * undefined where Pod objects are not the whole truth (files). Returns what it
   * released; each release is logged with the pod and its addresses.
   */
  async pass(livePods: readonly PodRef[] | undefined): Promise<ReleasedLeak[]> {
    if (this.running) return [];
    this.running = true;
    try {
      return await this.run(livePods);
    } finally {
      this.running = false;
    }
  }

  private async run(livePods: readonly PodRef[] | undefined): Promise<ReleasedLeak[]> {
    const { node, keep } = this.o;
    const blocks = (await this.o.store.list('block')).map((r) => r.value);
    const now = this.now();
    const verdict = judgeLocalLeaks(this.absent, {
      node, blocks, links: new Set(this.o.links()), hostIf: hostIfName, keep, now, graceMs: this.o.graceMs,
    });
    this.absent = verdict.state;
    const chosen = new Map<string, { leak: Leak; why: string }>();
    for (const l of verdict.leaks) {
      const hostIf = hostIfName(l.containerId ?? '', ifNameOfHandle(l.handle));
      chosen.set(l.handle, { leak: l, why: `host interface ${hostIf} missing for ${now - (this.absent[l.handle]?.since ?? now)} ms` });
    }
    if (livePods) {
      const current = findLeaks(blocks, livePods).filter((l) => l.node === node && !keep.has(l.handle));
      const confirmed = confirmLeaks(this.podLeaks, current);
      this.podLeaks = current;
      for (const l of confirmed) if (!chosen.has(l.handle)) chosen.set(l.handle, { leak: l, why: 'no such Pod in two passes' });
    }
    const released: ReleasedLeak[] = [];
    for (const { leak, why } of chosen.values()) {
      if (verdict.leaks.includes(leak) && leak.containerId !== undefined) {
        await this.o.settle?.(leak.handle, leak.containerId);
        // a CNI request that finished meanwhile (re)created it: alive after all
        if (new Set(this.o.links()).has(hostIfName(leak.containerId, ifNameOfHandle(leak.handle)))) {
          this.forget(leak.handle);
          continue;
        }
      }
      const addresses = await this.o.release(leak.handle);
      this.forget(leak.handle);
      this.o.log.warn({ pod: podKey(leak.pod), handle: leak.handle, addresses, why }, `ipam: released the addresses of pod ${podKey(leak.pod)} (leaked: ${why}; the runtime never called DEL)`);
      released.push({ ...leak, addresses: addresses.length > 0 ? addresses : leak.addresses, why });
    }
    return released;
  }

  private forget(handle: string): void {
    const { [handle]: _gone, ...rest } = this.absent;
    this.absent = rest;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }
}

/**
 * `settle` through the agent's own CNI socket: a CHECK for the handle (its network
 * is the handle's prefix before the container ID). Whatever the answer — an error is
 * the usual one for a pod without its veth — it arrives only after every request
 * queued for that handle has run. Rejects when nothing answers within `timeoutMs`
 * (the caller then releases nothing this pass).
 */
export function cniSettle(socketPath: string, timeoutMs = 30_000): (handle: string, containerId: string) => Promise<void> {
  return (handle, containerId) => new Promise<void>((resolve, reject) => {
    const ifName = ifNameOfHandle(handle);
    const suffix = `.${containerId}.${ifName}`;
    if (!handle.endsWith(suffix)) {
      reject(new Error(`handle ${handle} is not <network>.${containerId}.<ifName>`));
      return;
    }
    const req: AgentRequest = { v: WIRE_VERSION, command: 'CHECK', containerId, ifName, args: {}, network: handle.slice(0, -suffix.length), cniVersion: '1.0.0' };
    const sock = createConnection(socketPath);
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`CNI server on ${socketPath} did not answer within ${timeoutMs} ms`)); }, timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        decodeResponse(buf.slice(0, nl));
        done();
      } catch (e) {
        done(e instanceof Error ? e : new Error(String(e)));
      }
    });
    sock.on('error', (e) => done(e));
    sock.on('close', () => done(new Error(`CNI server on ${socketPath} closed without answering`)));
  });
}
