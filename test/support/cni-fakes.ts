/**
 * An in-process CNI agent on a fake kernel, for tests of CniServer and of the plugin
 * executables: `FakeWiring` keeps the pod links in memory (and can hold an add() at a
 * gate, fail the next one, or miss a namespace); `startFakeCniAgent` serves a
 * CniServer with an in-memory IPAM (node n1) on a unix socket in a fresh temp
 * directory, and `stop()` stops it and removes the directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PodLink, PodWiring } from '../../agent/cni/handler.js';
import { CniServer } from '../../agent/cni/server.js';
import { Ipam } from '../../agent/ipam/allocator.js';
import { MemoryIpamStore } from '../../agent/ipam/store.js';
import type { IpPool } from '../../agent/ipam/types.js';

/** A kernel stand-in: remembers links by host interface; an add() for a gated interface waits until released. */
export class FakeWiring implements PodWiring {
  readonly links = new Map<string, PodLink>();
  /** the host interfaces add() was called for, in order (before any gate) */
  readonly started: string[] = [];
  /** add() for the key opens the value's gate, then goes on */
  readonly opens = new Map<string, string>();
  /** the next add() fails as the kernel would on an existing link */
  failNext = false;
  private readonly gates = new Map<string, { wait: Promise<void>; open: () => void }>();
  private readonly namespaces: ReadonlySet<string> | undefined;

  /** `namespaces`: the pod network namespaces that exist (default: every one asked for). */
  constructor(namespaces?: readonly string[]) {
    this.namespaces = namespaces && new Set(namespaces);
  }

  /** add() for `hostIf` waits until release(hostIf) or releaseAll(). */
  gate(hostIf: string): void {
    let open: () => void = () => undefined;
    const wait = new Promise<void>((r) => { open = r; });
    this.gates.set(hostIf, { wait, open });
  }
  release(hostIf: string): void { this.gates.get(hostIf)?.open(); }
  releaseAll(): void { for (const g of this.gates.values()) g.open(); }

  async netnsExists(netns: string): Promise<boolean> { return this.namespaces?.has(netns) ?? true; }
  async add(l: PodLink): Promise<{ hostMac: string; podMac: string }> {
    this.started.push(l.hostIf);
    if (this.failNext) { this.failNext = false; throw new Error('RTNETLINK answers: File exists'); }
    const other = this.opens.get(l.hostIf);
    if (other !== undefined) this.release(other);
    await this.gates.get(l.hostIf)?.wait;
    this.links.set(l.hostIf, l);
    return { hostMac: 'ee:ee:ee:ee:ee:ee', podMac: '0a:00:00:00:00:01' };
  }
  async del(hostIf: string): Promise<boolean> { return this.links.delete(hostIf); }
  async check(l: PodLink): Promise<string[]> { return this.links.has(l.hostIf) ? [] : [`host interface ${l.hostIf} does not exist`]; }
}

export interface FakeCniAgentOptions {
  /** default: a new FakeWiring (every namespace exists) */
  wiring?: FakeWiring;
  /** default: one IPv4 pool, 10.7.0.0/28 in one block */
  pools?: IpPool[];
  /** CniServerOptions.stages */
  stages?: boolean;
  /** default: cni.sock in a new temp directory (removed by stop()) */
  socketPath?: string;
}

export interface FakeCniAgent {
  server: CniServer;
  wiring: FakeWiring;
  store: MemoryIpamStore;
  socketPath: string;
  /** the temp directory holding the socket; undefined when the caller named the socket */
  dir: string | undefined;
  /** stops the server and removes the temp directory */
  stop(): Promise<void>;
}

/** Starts a CniServer for node n1 on a fake kernel and an in-memory IPAM store. */
export async function startFakeCniAgent(opts: FakeCniAgentOptions = {}): Promise<FakeCniAgent> {
  const wiring = opts.wiring ?? new FakeWiring();
  const store = new MemoryIpamStore();
  const pools = opts.pools ?? [{ name: 'v4', spec: { cidr: '10.7.0.0/28', blockSize: 28 } }];
  const dir = opts.socketPath === undefined ? mkdtempSync(join(tmpdir(), 'margay-cni-')) : undefined;
  const socketPath = opts.socketPath ?? join(dir as string, 'cni.sock');
  const server = new CniServer({ socketPath, ipam: new Ipam({ store, node: 'n1', pools }), wiring, stages: opts.stages });
  try {
    await server.start();
  } catch (e) {
    if (dir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    server, wiring, store, socketPath, dir,
    async stop() {
      wiring.releaseAll();
      await server.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
