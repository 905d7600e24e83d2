import { mkdtempSync, readdirSync, rmSync, utimesSync, watch, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileIpamStore } from '../../../../agent/ipam/file-store.js';
import type { Handle } from '../../../../agent/ipam/types.js';

const rec = (handle: string): Handle => ({ handle, addresses: [], attrs: { node: 'n' } });

describe('FileIpamStore', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'margay-ipam-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates, reads, lists and replaces with compare-and-swap', async () => {
    const s = new FileIpamStore(dir);
    const created = await s.put('handle', 'c1.eth0', rec('c1.eth0'), undefined);
    expect(created.ok).toBe(true);
    expect((await s.put('handle', 'c1.eth0', rec('x'), undefined)).ok).toBe(false); // exists
    const v1 = (await s.get('handle', 'c1.eth0'))!;
    expect(v1.value.handle).toBe('c1.eth0');
    const v2 = await s.put('handle', 'c1.eth0', rec('second'), v1.version);
    expect(v2.ok).toBe(true);
    expect((await s.put('handle', 'c1.eth0', rec('stale'), v1.version)).ok).toBe(false);
    expect((await s.get('handle', 'c1.eth0'))!.value.handle).toBe('second');
    expect(await s.keys('handle')).toEqual(['c1.eth0']);
    expect((await s.list('handle')).map((r) => r.value.handle)).toEqual(['second']);
  });

  it('encodes keys with slashes and colons (block CIDRs)', async () => {
    const s = new FileIpamStore(dir);
    const b = { cidr: 'fd00::40/122', pool: 'p', affinity: null, allocations: [null], attributes: {} };
    expect((await s.put('block', b.cidr, b, undefined)).ok).toBe(true);
    expect(await s.keys('block')).toEqual(['fd00::40/122']);
    expect((await s.get('block', 'fd00::40/122'))!.value.cidr).toBe('fd00::40/122');
  });

  it('deletes only the version read; a re-created record does not match an old version', async () => {
    const s = new FileIpamStore(dir);
    await s.put('handle', 'h', rec('h'), undefined);
    const v1 = (await s.get('handle', 'h'))!.version;
    expect(await s.delete('handle', 'h', 'nope')).toBe(false);
    expect(await s.delete('handle', 'h', v1)).toBe(true);
    expect(await s.get('handle', 'h')).toBeUndefined();
    await s.put('handle', 'h', rec('h'), undefined);
    expect((await s.put('handle', 'h', rec('h'), v1)).ok).toBe(false);
    expect(await s.delete('handle', 'h', v1)).toBe(false);
  });

  it('leaves no temporary or lock files behind', async () => {
    const s = new FileIpamStore(dir);
    for (let i = 0; i < 20; i++) await s.put('handle', `h${i}`, rec(`h${i}`), undefined);
    expect(readdirSync(join(dir, 'handle')).every((f) => f.endsWith('.json'))).toBe(true);
  });

  it('breaks a lock left by a dead process', async () => {
    const s = new FileIpamStore(dir, { lockTimeoutMs: 2000 });
    await s.put('handle', 'h', rec('h'), undefined);
    const v = (await s.get('handle', 'h'))!.version;
    // pid 2^22 + 1 is above the default pid_max ceiling: never alive
    writeFileSync(join(dir, '.locks', 'handle', 'h.json.lock'), `${2 ** 22 + 1} deadbeef`);
    expect((await s.put('handle', 'h', rec('h2'), v)).ok).toBe(true);
    expect(existsSync(join(dir, '.locks', 'handle', 'h.json.lock'))).toBe(false);
  });

  it('sweeps temporary files of dead writers when opened, keeps live ones', async () => {
    new FileIpamStore(dir);
    // in the temporary directory, and next to the records (where earlier versions wrote them)
    const dead = [join(dir, '.tmp', 'block', `x.json.tmp-${2 ** 22 + 1}-abcd`), join(dir, 'block', `x.json.tmp-${2 ** 22 + 1}-abcd`)];
    const live = [join(dir, '.tmp', 'block', `y.json.tmp-${process.pid}-abcd`), join(dir, 'block', `y.json.tmp-${process.pid}-abcd`)];
    for (const f of [...dead, ...live]) writeFileSync(f, '{');
    new FileIpamStore(dir);
    for (const f of dead) expect(existsSync(f), f).toBe(false);
    for (const f of live) expect(existsSync(f), f).toBe(true);
  });

  it('sweeps the stale lock files earlier versions left next to the records, keeps a fresh one of a live holder', async () => {
    new FileIpamStore(dir);
    const at = (name: string): string => join(dir, 'block', name);
    writeFileSync(at('a.json.lock'), `${2 ** 22 + 1} deadbeef`); // holder dead
    writeFileSync(at('b.json.lock'), `${process.pid} cafe`); // holder alive, but old
    utimesSync(at('b.json.lock'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    writeFileSync(at('c.json.lock.break'), ''); // a breaker's mark, old
    utimesSync(at('c.json.lock.break'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    writeFileSync(at('d.json.lock'), `${process.pid} f00d`); // holder alive, fresh: an old-layout agent at work
    writeFileSync(at('e.json'), JSON.stringify({ version: 'v1', value: rec('e') })); // a record is never touched
    new FileIpamStore(dir, { staleMs: 30_000 });
    expect(readdirSync(join(dir, 'block')).sort()).toEqual(['d.json.lock', 'e.json']);
  });

  it('writes a record with one event in its directory (locks and temporary files live elsewhere)', async () => {
    const s = new FileIpamStore(dir);
    const names: (string | null)[] = [];
    const w = watch(join(dir, 'handle'), (_e, f) => names.push(f));
    try {
      await s.put('handle', 'b', rec('b'), undefined);
      const v = (await s.get('handle', 'b'))!.version;
      await s.put('handle', 'b', rec('b2'), v);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      w.close();
    }
    // the renames only (the kernel may fold two alike events into one); no lock or temporary file
    expect(names.length).toBeGreaterThanOrEqual(1);
    expect(new Set(names)).toEqual(new Set(['b.json']));
    expect(readdirSync(join(dir, 'handle'))).toEqual(['b.json']);
  });

  it('waits for a live lock and times out with a clear error', async () => {
    const s = new FileIpamStore(dir, { lockTimeoutMs: 150 });
    writeFileSync(join(dir, '.locks', 'handle', 'h.json.lock'), `${process.pid} cafe`);
    await expect(s.put('handle', 'h', rec('h'), undefined)).rejects.toThrow(/timed out after 150 ms waiting for lock/);
  });

  it('breaks a live-pid lock once it is older than staleMs', async () => {
    const s = new FileIpamStore(dir, { lockTimeoutMs: 2000, staleMs: 100 });
    writeFileSync(join(dir, '.locks', 'handle', 'h.json.lock'), `${process.pid} cafe`);
    const t0 = performance.now();
    expect((await s.put('handle', 'h', rec('h'), undefined)).ok).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(80);
  });
});
