/**
 * The IPAM allocator of one node: assigns and releases addresses by handle over an
 * IpamStore with compare-and-swap, so several agents (processes, nodes) can allocate
 * at once without ever handing out the same address.
 *
 * Order of preference for a new address (per family, over the enabled pools that
 * select this node): a block affine to this node with room → claim a free block of
 * a pool (created already holding the address, one CAS; the lowest, or after a
 * conflict the next ones of the same listing from the node's hashed block, so that
 * nodes claiming at once spread out) → borrow from any other block with room,
 * unless strictAffinity → exhausted.
 *
 * Idempotence: a handle (container ID + interface) holds at most one address per
 * family. assign() first reads the handle record and returns what it holds. Without
 * a record, a slot the handle already holds in any block of the family's pools (own
 * or borrowed: a crash between the block write and the handle write) is returned and
 * recorded before anything is allocated. Where such slots may be is a hint read once
 * per instance (handle → blocks, for handles made on this node), from the same list
 * of blocks that fills the own-block cache, so a fresh ADD costs no extra read; a hit
 * is re-read before use. The hint is read again only after a failed assign whose
 * write may have landed unseen (a store error from a block or handle write, or a
 * failed rollback); an ADD that wrote nothing (exhausted, no-pool, contention) keeps it.
 * release() of a handle without a record frees its slots in own blocks and the ones
 * the hint names; of an unknown handle it does nothing.
 *
 * Pools: a block belongs to the pool whose CIDR holds it, never to the name it was
 * written with; only blocks inside an enabled pool selecting this node are used, and
 * a claimed block overlaps no existing block of any size (a pool's blockSize or cidr
 * edited without an API server to refuse it never gives one address twice).
 *
 * Empty blocks: when a release empties a block affine to this node, the block is
 * deleted unless it is the node's last block in a pool that still serves the node
 * (kept warm to avoid claim/release churn); an empty block without affinity is
 * always deleted. Empty own blocks no serving pool holds any more are deleted when
 * the pools or labels change (`releaseStrandedBlocks`), unless held (`holdStranded`:
 * an IPPool object is rejected, so a pool missing here may still exist); the check
 * stays due and runs when the hold is lifted.
 *
 * Async rules: calls on one Ipam instance run one at a time (a promise chain), so
 * one agent's concurrent CNI requests do not fight over the same block; across
 * agents every write is a CAS; on conflict the step re-reads and retries,
 * at most `maxAttempts` times, then fails with reason `contention` (try again).
 * The own-block cache is a hint only; every use re-reads the record.
 */
import { blockCount, parseCidr, formatCidr, freeBlocksFrom, stableIndex, tryParseCidr, type Cidr, type Family } from './cidr.js';
import { addressOf, affinityOf, allocateInBlock, freeCount, handlesIn, isEmpty, newBlock, releaseInBlock } from './block.js';
import { IpamError } from './errors.js';
import { partitionPools, poolCovering, poolsForNode, servingKey, servingPool, type Encap, type ResolvedPool } from './pool.js';
import type { IpamStore, Versioned } from './store.js';
import type { Assignment, Block, Handle, HandleAttrs, IpPool, PodRef } from './types.js';

export interface IpamOptions {
  store: IpamStore;
  node: string;
  nodeLabels?: Readonly<Record<string, string>>;
  pools: readonly IpPool[];
  /** Forbid borrowing addresses from blocks affine to other nodes. */
  strictAffinity?: boolean;
  maxAttempts?: number;
  /** Keep empty own blocks no pool here holds (an IPPool object is rejected, so absent from `pools`). */
  holdStranded?: boolean;
}

export interface SetPoolsOptions {
  /** Keep empty own blocks no pool here holds until a setPools without it (an IPPool object is rejected). */
  holdStranded?: boolean;
}

export interface AssignRequest {
  handle: string;
  pod?: PodRef;
  containerId?: string;
  /** Limit to these families; default: every family with an eligible pool. */
  families?: readonly Family[];
  /** Only pools with this encapsulation on (a node's tunnel device address). */
  encap?: Encap;
}

/** Conflicting block creates tried from one listing of the blocks before listing them again. */
const CLAIM_CONFLICTS_PER_LIST = 3;

type Outcome = { kind: 'done'; address: string; block: Block; pool: string } | { kind: 'retry' } | { kind: 'none' };

export class Ipam {
  readonly node: string;
  private readonly store: IpamStore;
  private labels: Readonly<Record<string, string>>;
  private pools: ResolvedPool[] = [];
  private errors: IpamError[] = [];
  private readonly strict: boolean;
  private readonly maxAttempts: number;
  /** Hint: CIDRs of blocks believed affine to this node. */
  private own: Set<string> | undefined;
  /** Hint: handle → blocks where it held slots when blocks were last listed, for handles made on this node (crash leftovers among them). */
  private slots: Map<string, Set<string>> | undefined;
  /** Hint: own blocks found full; tried again only before claiming or borrowing. */
  private readonly full = new Set<string>();
  /** Set by a store write that threw in a way that may have landed (the answer lost); reset by each assign. */
  private unsureWrite = false;
  /** A block claim met a conflict since this instance's last successful claim: start the search at the node's hashed block. */
  private spreadClaims = false;
  /** Pools or labels changed since own blocks were last checked against them (`releaseStrandedBlocks`). */
  private strandedDue = true;
  /** No stranded block is released while set (`SetPoolsOptions.holdStranded`); `strandedDue` stays. */
  private holdStranded = false;
  /** The last setPools' input when list order settled an overlap; decided by the block records before the stranded check. */
  private undecided: { pools: readonly IpPool[]; previous: readonly ResolvedPool[] } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: IpamOptions) {
    this.store = opts.store;
    this.node = opts.node;
    this.labels = opts.nodeLabels ?? {};
    this.setPools(opts.pools, { holdStranded: opts.holdStranded === true });
    this.strict = opts.strictAffinity === true;
    this.maxAttempts = opts.maxAttempts ?? 50;
  }

  /**
   * Replaces the pools. Invalid ones (or one overlapping a pool there before it:
   * older by creationTimestamp, else serving since the last setPools, else holding
   * block records) are left out and returned, naming the field; the others keep
   * serving. An overlap only list order settled is decided again by the block records
   * (read once, queued, before any block is judged stranded or assigned from).
   * `holdStranded` keeps stranded blocks until a setPools without it.
   */
  setPools(pools: readonly IpPool[], opts: SetPoolsOptions = {}): IpamError[] {
    const lifted = this.holdStranded && opts.holdStranded !== true;
    this.holdStranded = opts.holdStranded === true;
    // a result list order settled does not count as having served
    const previous = this.undecided ? this.undecided.previous : this.pools;
    const { valid, errors, undecided } = partitionPools(pools, previous);
    const before = this.servingKey();
    this.pools = valid;
    this.errors = errors;
    // list order settled an overlap (no timestamps, no history: a restart with the file
    // datastore): the block records decide, read before any block is judged stranded
    this.undecided = undecided ? { pools, previous } : undefined;
    if (undecided || (lifted && this.strandedDue)) this.strandedNow();
    else this.checkStranded(before);
    return errors;
  }

  /** Settles an `undecided` overlap by the block records (`partitionPools` with blocks). */
  private async decidePools(): Promise<void> {
    const u = this.undecided;
    if (!u) return;
    const blocks = (await this.store.list('block')).map((r) => r.value);
    if (this.undecided !== u) return; // a newer setPools
    const { valid, errors } = partitionPools(u.pools, u.previous, blocks);
    this.pools = valid;
    this.errors = errors;
    this.undecided = undefined;
  }

  /** Errors of the pools left out by the last setPools. */
  poolErrors(): readonly IpamError[] {
    return this.errors;
  }

  setNodeLabels(labels: Readonly<Record<string, string>>): void {
    const before = this.servingKey();
    this.labels = labels;
    this.checkStranded(before);
  }

  /**
   * Deletes this node's empty blocks that no enabled pool selecting this node holds
   * any more (pool deleted, its cidr moved, its nodeSelector no longer matching, or
   * disabled), so that the addresses serve the pools' nodes again; returns their
   * CIDRs. A block still holding addresses stays until they are released. Run by
   * the first assign and, queued, whenever the pools or labels change what serves
   * this node.
   */
  releaseStrandedBlocks(): Promise<string[]> {
    return this.serial(() => this.releaseStrandedNow());
  }

  private servingKey(): string {
    return servingKey(this.pools, this.labels);
  }

  private checkStranded(before: string): void {
    if (this.servingKey() !== before) this.strandedNow();
  }

  private strandedNow(): void {
    this.strandedDue = true;
    // queued behind calls in flight; a failure leaves it due for the next assign
    this.releaseStrandedBlocks().catch(() => undefined);
  }

  private serving(cidr: string): boolean {
    return servingPool(this.pools, this.labels, cidr) !== undefined;
  }

  private async releaseStrandedNow(): Promise<string[]> {
    // held: still due (run when the hold is lifted); an undecided overlap is decided all the same
    this.strandedDue = this.holdStranded;
    const mine = affinityOf(this.node);
    const gone: string[] = [];
    try {
      await this.decidePools();
      for (const key of this.holdStranded ? [] : await this.ownBlockKeys()) {
        if (this.serving(key)) continue;
        let deleted = false;
        await this.casLoop(key, (b) => {
          // a hold set while this runs (setPools between two writes) stops it
          if (this.holdStranded) this.strandedDue = true;
          deleted = !this.holdStranded && b.affinity === mine && isEmpty(b) && !this.serving(b.cidr);
          return deleted ? 'delete' : undefined;
        });
        if (deleted) {
          gone.push(key);
          this.own?.delete(key);
          this.full.delete(key);
        }
      }
    } catch (e) {
      this.strandedDue = true;
      throw e;
    }
    return gone;
  }

  /** Pools currently known (validated). */
  resolvedPools(): readonly ResolvedPool[] {
    return this.pools;
  }

  /** What the handle holds now, or undefined. */
  async lookup(handle: string): Promise<Assignment[] | undefined> {
    const rec = await this.store.get('handle', handle);
    return rec ? rec.value.addresses.map(toAssignment) : undefined;
  }

  /** Runs calls of this instance one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One address per wanted family; returns what the handle already holds on retry. */
  assign(req: AssignRequest): Promise<Assignment[]> {
    return this.serial(() => this.assignNow(req));
  }

  /** Frees everything the handle holds; returns the released addresses. Idempotent. */
  release(handle: string): Promise<string[]> {
    return this.serial(() => this.releaseNow(handle));
  }

  private async assignNow(req: AssignRequest): Promise<Assignment[]> {
    const families = (req.families ?? [4, 6]).filter((f) => poolsForNode(this.pools, f, this.labels, req.encap).length > 0);
    if (families.length === 0) {
      const what = `${req.families ? `IPv${req.families.join('/IPv')} ` : ''}${req.encap ? `${req.encap.toUpperCase()} ` : ''}`;
      throw new IpamError('no-pool', `no enabled ${what}IPPool selects node ${this.node}`);
    }
    const attrs: HandleAttrs = { node: this.node, ...(req.pod ? { pod: req.pod } : {}), ...(req.containerId ? { containerId: req.containerId } : {}) };
    if (this.strandedDue) await this.releaseStrandedNow().catch(() => undefined);
    const existing = await this.store.get('handle', req.handle);
    const held = existing?.value.addresses ?? [];
    // no record: slots the handle already holds (a crash between the block and the handle write)
    const found = existing ? [] : await this.heldSlots(req.handle, families, req.encap);
    const fresh: Handle['addresses'] = [];
    this.unsureWrite = false;
    let recording = false;
    try {
      for (const f of families) {
        if (held.some((a) => a.family === f)) continue;
        fresh.push(found.find((a) => a.family === f) ?? await this.allocateFamily(f, req.handle, attrs, req.encap));
      }
      recording = fresh.length > 0;
      if (recording) await this.recordHandle(req.handle, attrs, fresh);
    } catch (e) {
      let unsure = this.unsureWrite;
      // The handle record may have landed with its answer lost: its addresses must stay
      // held in their blocks, or a retry would return an address another pod can be given.
      // Kept, they are what the retry returns (from the record, or the slots) or a DEL frees.
      const keep = recording && unsure;
      if (!keep) for (const a of fresh) await this.releaseFromBlock(a.block, req.handle).catch(() => { unsure = true; });
      // a slot may be held unseen (a write's answer lost, a failed rollback): read the hint again when next needed
      if (unsure) this.slots = undefined;
      throw e;
    }
    return [...held, ...fresh].sort((a, b) => a.family - b.family).map(toAssignment);
  }

  private async releaseNow(handle: string): Promise<string[]> {
    const rec = await this.store.get('handle', handle);
    let blocks = rec ? [...new Set(rec.value.addresses.map((a) => a.block))] : [];
    // crash between block and handle write: own blocks, and borrowed ones the hint names
    if (!rec) blocks = [...new Set([...(await this.ownBlockKeys()), ...((await this.slotHint()).get(handle) ?? [])])];
    const released: string[] = [];
    for (const b of blocks) released.push(...(await this.releaseFromBlock(b, handle)));
    if (rec) {
      for (let i = 0; i < this.maxAttempts; i++) {
        const cur = await this.store.get('handle', handle);
        if (!cur || (await this.store.delete('handle', handle, cur.version))) break;
      }
    }
    return released;
  }

  /** Lets go of this node's blocks (node removed): empty ones are deleted, others lose affinity. */
  releaseNodeBlocks(node: string = this.node): Promise<void> {
    return this.serial(() => this.releaseNodeBlocksNow(node));
  }

  private async releaseNodeBlocksNow(node: string): Promise<void> {
    for (const rec of await this.store.list('block')) {
      if (rec.value.affinity !== affinityOf(node)) continue;
      await this.casLoop(rec.value.cidr, (b) => (isEmpty(b) ? 'delete' : { ...b, affinity: null }));
    }
    if (node === this.node) this.own = undefined;
  }

  private async allocateFamily(family: Family, handle: string, attrs: HandleAttrs, encap?: Encap): Promise<Handle['addresses'][number]> {
    const pools = poolsForNode(this.pools, family, this.labels, encap);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      let o = await this.fromOwnBlocks(family, pools, handle, attrs);
      if (o.kind === 'none') o = await this.claimBlock(pools, handle, attrs);
      if (o.kind === 'none' && !this.strict) o = await this.borrow(family, pools, handle, attrs);
      if (o.kind === 'done') return { family, address: o.address, block: o.block.cidr, pool: o.pool };
      if (o.kind === 'none') {
        const why = this.strict ? ' (strictAffinity forbids borrowing from other nodes\' blocks)' : '';
        throw new IpamError('exhausted', `IPv${family} pools exhausted: no free address in ${pools.map((p) => `${p.name} (${p.cidrText})`).join(', ')} for node ${this.node}${why}`);
      }
    }
    throw new IpamError('contention', `could not allocate an IPv${family} address after ${this.maxAttempts} attempts (concurrent writers); try again`);
  }

  /** Allocates in a block of `pool` (found by containment); the block is written with the pool's current name. */
  private async tryBlock(rec: Versioned<Block>, pool: ResolvedPool, handle: string, attrs: HandleAttrs): Promise<Outcome> {
    const r = allocateInBlock(rec.value, handle, attrs);
    if (!r) return { kind: 'none' };
    if (r.block === rec.value) return { kind: 'done', address: r.address, block: rec.value, pool: pool.name };
    const put = await this.write(() => this.store.put('block', rec.value.cidr, { ...r.block, pool: pool.name }, rec.version));
    return put.ok ? { kind: 'done', address: r.address, block: put.record.value, pool: pool.name } : { kind: 'retry' };
  }

  /** The hint of where handles made on this node hold slots, read on first use (one list). */
  private async slotHint(): Promise<Map<string, Set<string>>> {
    if (this.slots === undefined) await this.readHints();
    return this.slots ?? new Map();
  }

  /** One list of blocks fills both hints: this node's blocks and its handles' slots. */
  private async readHints(): Promise<void> {
    const mine = affinityOf(this.node);
    const own = new Set<string>();
    const slots = new Map<string, Set<string>>();
    for (const { value: b } of await this.store.list('block')) {
      if (b.affinity === mine) own.add(b.cidr);
      for (const h of handlesIn(b)) if (b.attributes[h]?.node === this.node) slots.set(h, new Set([...(slots.get(h) ?? []), b.cidr]));
    }
    this.own = own;
    this.slots = slots;
  }

  /** Per family, a slot `handle` holds in a block of the family's pools (each re-read), as the handle record lists it. */
  private async heldSlots(handle: string, families: readonly Family[], encap?: Encap): Promise<Handle['addresses']> {
    const out: Handle['addresses'] = [];
    for (const cidr of [...((await this.slotHint()).get(handle) ?? [])].sort()) {
      const family = parseCidr(cidr).family;
      if (!families.includes(family) || out.some((a) => a.family === family)) continue;
      const b = (await this.store.get('block', cidr))?.value;
      const pool = b && poolCovering(poolsForNode(this.pools, family, this.labels, encap), b.cidr);
      const address = b && pool ? addressOf(b, handle) : undefined;
      if (b && pool && address !== undefined) out.push({ family, address, block: b.cidr, pool: pool.name });
    }
    return out;
  }

  private async ownBlockKeys(): Promise<string[]> {
    if (this.own === undefined) await this.readHints();
    return [...(this.own ?? [])];
  }

  private async fromOwnBlocks(family: Family, pools: readonly ResolvedPool[], handle: string, attrs: HandleAttrs): Promise<Outcome> {
    const mine = affinityOf(this.node);
    const keys = (await this.ownBlockKeys()).filter((k) => (k.includes(':') ? 6 : 4) === family);
    // Blocks with room first; the ones found full only when those are exhausted
    // (someone else may have freed addresses in them), so a node with many full
    // blocks does not re-read them all for every address.
    const order = [...keys.filter((k) => !this.full.has(k)), ...keys.filter((k) => this.full.has(k))];
    for (const key of order) {
      const rec = await this.store.get('block', key);
      if (!rec || rec.value.affinity !== mine) { this.own?.delete(key); this.full.delete(key); continue; }
      const pool = poolCovering(pools, rec.value.cidr);
      if (!pool) continue;
      const o = await this.tryBlock(rec, pool, handle, attrs);
      if (o.kind === 'none') this.full.add(key);
      else if (o.kind === 'done') this.full.delete(key);
      if (o.kind !== 'none') return o;
    }
    return { kind: 'none' };
  }

  /**
   * Claims a block of a pool that shares no address with any existing block, whatever
   * its size (one claimed before the pool's blockSize changed, or of another pool's),
   * so that an address is never in two blocks. Uncontended, the lowest such block.
   * A create that conflicts (another node took that block since the listing) goes on
   * with the candidates of the same listing, from then on starting at a block chosen
   * by a stable hash of the node name and wrapping round the pool, so that nodes
   * claiming at once spread out instead of all racing for the next lowest block; the
   * blocks are listed again only after `CLAIM_CONFLICTS_PER_LIST` conflicts, or when
   * the candidates run out after one. The spread start stays on for the following
   * claims of this instance until one succeeds.
   */
  private async claimBlock(pools: readonly ResolvedPool[], handle: string, attrs: HandleAttrs): Promise<Outcome> {
    const taken = (await this.store.keys('block')).map(tryParseCidr).filter((c): c is Cidr => c !== undefined);
    let conflicts = 0;
    for (const pool of pools) {
      let order = this.claimOrder(pool, taken);
      for (let next = order.next(); !next.done; next = order.next()) {
        const cidr = next.value;
        const key = formatCidr(cidr);
        const fresh = allocateInBlock(newBlock(cidr, key, pool.name, this.node), handle, attrs);
        if (!fresh) continue;
        const put = await this.write(() => this.store.put('block', key, fresh.block, undefined));
        if (!put.ok) {
          if (++conflicts >= CLAIM_CONFLICTS_PER_LIST) { this.spreadClaims = true; return { kind: 'retry' }; }
          taken.push(cidr);
          if (!this.spreadClaims) { this.spreadClaims = true; order = this.claimOrder(pool, taken); }
          continue;
        }
        this.spreadClaims = false;
        this.own ??= new Set();
        this.own.add(key);
        return { kind: 'done', address: fresh.address, block: put.record.value, pool: pool.name };
      }
    }
    // the listing may be stale after a conflict: list again before giving up on claiming
    return conflicts > 0 ? { kind: 'retry' } : { kind: 'none' };
  }

  /** A pool's free blocks in claim order: lowest first, or from this node's hashed block once claims met contention. */
  private claimOrder(pool: ResolvedPool, taken: readonly Cidr[]): Generator<Cidr> {
    const start = this.spreadClaims ? stableIndex(this.node, blockCount(pool.cidr, pool.blockSize)) : 0n;
    return freeBlocksFrom(pool.cidr, pool.blockSize, taken, start);
  }

  private async borrow(family: Family, pools: readonly ResolvedPool[], handle: string, attrs: HandleAttrs): Promise<Outcome> {
    const mine = affinityOf(this.node);
    for (const rec of await this.store.list('block')) {
      const b = rec.value;
      const pool = b.affinity === mine ? undefined : poolCovering(pools, b.cidr);
      if (!pool || tryParseCidr(b.cidr)?.family !== family || freeCount(b) === 0) continue;
      const o = await this.tryBlock(rec, pool, handle, attrs);
      if (o.kind !== 'none') return o;
    }
    return { kind: 'none' };
  }

  private async recordHandle(handle: string, attrs: HandleAttrs, fresh: Handle['addresses']): Promise<void> {
    for (let i = 0; i < this.maxAttempts; i++) {
      const cur = await this.store.get('handle', handle);
      const addresses = [...(cur?.value.addresses ?? []).filter((a) => !fresh.some((f) => f.family === a.family)), ...fresh];
      const put = await this.write(() => this.store.put('handle', handle, { handle, addresses, attrs }, cur?.version));
      if (put.ok) return;
    }
    throw new IpamError('contention', `could not record handle ${handle} (concurrent writers); try again`);
  }

  /**
   * An assign's store write. One that throws a store error (`store`, `unavailable`, or
   * not an IpamError at all) may have landed with its answer lost; a `contention`
   * error (a lock never taken) wrote nothing.
   */
  private async write<T>(put: () => Promise<T>): Promise<T> {
    try {
      return await put();
    } catch (e) {
      if (!(e instanceof IpamError) || e.reason !== 'contention') this.unsureWrite = true;
      throw e;
    }
  }

  private async releaseFromBlock(cidr: string, handle: string): Promise<string[]> {
    let released: string[] = [];
    const mine = affinityOf(this.node);
    await this.casLoop(cidr, (b) => {
      const r = releaseInBlock(b, handle);
      released = r.released;
      if (r.released.length === 0) return undefined;
      if (isEmpty(r.block)) {
        if (r.block.affinity === null) return 'delete';
        // no pool serving this node holds it any more, or the node has another block of its pool
        if (r.block.affinity === mine && (!this.serving(r.block.cidr) || [...(this.own ?? [])].some((k) => k !== cidr && this.samePool(k, r.block)))) return 'delete';
      }
      return r.block;
    });
    if (released.length > 0) {
      this.full.delete(cidr);
      const hinted = this.slots?.get(handle);
      hinted?.delete(cidr);
      if (hinted?.size === 0) this.slots?.delete(handle);
      const still = await this.store.get('block', cidr);
      if (!still) this.own?.delete(cidr);
    }
    return released;
  }

  /** Whether the block at `key` lies in the pool holding `b` (by address, whatever names they were written with). */
  private samePool(key: string, b: Block): boolean {
    const pool = poolCovering(this.pools, b.cidr);
    return pool !== undefined && poolCovering([pool], key) !== undefined;
  }

  /** Re-read, transform, CAS-write until it sticks; `undefined` means no change. */
  private async casLoop(cidr: string, change: (b: Block) => Block | 'delete' | undefined): Promise<void> {
    for (let i = 0; i < this.maxAttempts; i++) {
      const rec = await this.store.get('block', cidr);
      if (!rec) return;
      const next = change(rec.value);
      if (next === undefined) return;
      const ok = next === 'delete'
        ? await this.store.delete('block', cidr, rec.version)
        : (await this.store.put('block', cidr, next, rec.version)).ok;
      if (ok) return;
    }
    throw new IpamError('contention', `could not update block ${cidr} (concurrent writers); try again`);
  }
}

function toAssignment(a: Handle['addresses'][number]): Assignment {
  return { family: a.family, address: a.address, prefix: a.family === 4 ? 32 : 128, block: a.block, pool: a.pool };
}

