/**
 * FileIpamStore.watch: records written or deleted by another store instance (another
 * agent on the machine) are delivered within a bound far below the safety-net
 * re-list period (set to a minute here, so only the directory watch can meet it);
 * lock and temporary files cause no re-list; each delivery names the keys it touched.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileIpamStore } from '../../../../agent/ipam/file-store.js';
import type { IpamChange, IpamWatch } from '../../../../agent/ipam/store.js';
import type { Block, Handle } from '../../../../agent/ipam/types.js';

const BOUND_MS = 500;
const RESYNC_MS = 60_000;
const block = (cidr: string, node: string): Block => ({ cidr, pool: 'p', affinity: `host:${node}`, allocations: [null, null], attributes: {} });
const handle = (id: string): Handle => ({ handle: id, addresses: [{ family: 4, address: '10.0.0.1', block: '10.0.0.0/30', pool: 'p' }], attrs: { node: 'n2' } });

describe('FileIpamStore.watch', () => {
  let dir: string;
  let w: IpamWatch | undefined;
  const changes: (IpamChange & { at: number })[] = [];
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'margay-ipam-watch-')); changes.length = 0; });
  afterEach(() => { w?.close(); w = undefined; rmSync(dir, { recursive: true, force: true }); });

  const next = (pred: (c: IpamChange) => boolean): Promise<number> => new Promise((resolve, reject) => {
    const deadline = performance.now() + BOUND_MS;
    const poll = (): void => {
      const hit = changes.find(pred);
      if (hit) resolve(hit.at);
      else if (performance.now() > deadline) reject(new Error(`no matching change within ${BOUND_MS} ms; got ${JSON.stringify(changes.map((c) => [c.kind, c.records.length]))}`));
      else setTimeout(poll, 1);
    };
    poll();
  });

  it('delivers both kinds once at start, then another instance\'s create and delete well within the re-list period', async () => {
    const reader = new FileIpamStore(dir, { watchResyncMs: RESYNC_MS });
    const writer = new FileIpamStore(dir);
    await writer.put('block', '10.0.0.0/30', block('10.0.0.0/30', 'n1'), undefined);
    w = await reader.watch((c) => changes.push({ ...c, at: performance.now() }));
    expect(changes.map((c) => [c.kind, c.records.length]).sort()).toEqual([['block', 1], ['handle', 0]]);
    changes.length = 0;

    const t0 = performance.now();
    await writer.put('block', '10.0.0.4/30', block('10.0.0.4/30', 'n2'), undefined);
    const tBlock = await next((c) => c.kind === 'block' && c.records.some((r) => r.value.cidr === '10.0.0.4/30'));
    await writer.put('handle', 'vxlan-tunnel-addr-n2', handle('vxlan-tunnel-addr-n2'), undefined);
    await next((c) => c.kind === 'handle' && c.records.length === 1);
    const created = changes.find((c) => c.kind === 'block');
    expect(created?.kind === 'block' && created.records.map((r) => r.value.cidr)).toEqual(['10.0.0.0/30', '10.0.0.4/30']);

    changes.length = 0;
    const cur = (await writer.get('block', '10.0.0.4/30'))!;
    expect(await writer.delete('block', '10.0.0.4/30', cur.version)).toBe(true);
    await next((c) => c.kind === 'block' && c.records.length === 1);
    process.stdout.write(`file store watch: another instance's block seen after ${(tBlock - t0).toFixed(1)} ms (re-list period ${RESYNC_MS} ms)\n`);
  });

  it('lock and temporary files alone re-list nothing and deliver nothing; close() stops the feed', async () => {
    const reader = new FileIpamStore(dir, { watchResyncMs: RESYNC_MS });
    w = await reader.watch((c) => changes.push({ ...c, at: performance.now() }));
    const writer = new FileIpamStore(dir);
    await writer.put('handle', 'h', handle('h'), undefined);
    await next((c) => c.kind === 'handle' && c.records.length === 1);
    changes.length = 0;
    // from here every re-list is seen: an event that is no record's must not cause one
    const lists = vi.spyOn(reader, 'list');
    // a CAS that fails (the record exists) takes and drops the lock but changes nothing
    expect((await writer.put('handle', 'h', handle('h'), undefined)).ok).toBe(false);
    // a writer's lock, lock breaker and temporary file, as another process leaves them for a moment
    for (const f of ['10.0.0.0%2F30.json.lock', '10.0.0.0%2F30.json.lock.break', '10.0.0.0%2F30.json.tmp-1-00ff']) {
      writeFileSync(join(dir, 'block', f), '1 00ff');
      unlinkSync(join(dir, 'block', f));
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(lists).not.toHaveBeenCalled();
    expect(changes).toEqual([]);
    // the same watch still sees a record
    await writer.put('block', '10.0.0.0/30', block('10.0.0.0/30', 'n1'), undefined);
    await next((c) => c.kind === 'block');
    expect(lists.mock.calls.map(([kind]) => kind)).toEqual(['block']);
    changes.length = 0;
    w.close();
    await writer.put('handle', 'h2', handle('h2'), undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(changes).toEqual([]);
  });

  it('names the keys each delivery touched; a record written and deleted within one window is delivered though no version moved', async () => {
    const writer = new FileIpamStore(dir);
    await writer.put('block', '10.0.0.0/30', block('10.0.0.0/30', 'n1'), undefined);
    const reader = new FileIpamStore(dir, { watchResyncMs: RESYNC_MS, watchDebounceMs: 50 });
    w = await reader.watch((c) => changes.push({ ...c, at: performance.now() }));
    expect(changes.every((c) => c.touched === undefined)).toBe(true); // the first read knows of no write
    changes.length = 0;
    await writer.put('block', '10.0.0.4/30', block('10.0.0.4/30', 'n1'), undefined);
    await next((c) => c.kind === 'block');
    expect(changes.map((c) => c.touched)).toEqual([['10.0.0.4/30']]);
    changes.length = 0;
    const made = await writer.put('block', '10.0.0.8/30', block('10.0.0.8/30', 'n1'), undefined);
    expect(made.ok && (await writer.delete('block', '10.0.0.8/30', made.record.version))).toBe(true);
    await next((c) => c.kind === 'block');
    expect(changes.map((c) => [c.records.map((r) => (r.value as Block).cidr), c.touched])).toEqual([[['10.0.0.0/30', '10.0.0.4/30'], ['10.0.0.8/30']]]);
  });
});
