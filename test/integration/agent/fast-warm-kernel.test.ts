/**
 * The fast-path warmer hands the kernel refused no-ops (fast-warm.ts refusedNoOp:
 * the route deleted from WARM_TABLE, a table that does not exist). Against a real
 * kernel: every write of the batch is refused with ESRCH, the routing tables are as
 * they were, and a route monitor sees nothing.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, deleteNetns, ip, newRunPrefix } from '../../../agent/lab/netns.js';
import { openRtnl, type KernelRtnl, type RouteWrite } from '../../../agent/dataplane/kernel/rtnl.js';
import { errnoName } from '../../../agent/dataplane/kernel/errno.js';
import { refusedNoOp } from '../../../agent/node/fast-warm.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';

describe.skipIf(needsRoot)(`fast-path warm-up writes against the kernel (${needsRoot ? ROOT_SKIP_REASON : 'root'})`, () => {
  const ns = `${newRunPrefix()}wk`;
  let nl: KernelRtnl;
  let ifindex = 0;

  beforeAll(async () => {
    await addNetns(ns);
    await ip(ns, 'link', 'add', 'mga', 'type', 'veth', 'peer', 'name', 'mgb');
    await ip(ns, 'link', 'set', 'mga', 'up');
    await ip(ns, 'addr', 'add', '172.30.0.13/24', 'dev', 'mga');
    nl = openRtnl({ netns: ns });
    ifindex = nl.linkByName('mga')?.index ?? 0;
  });
  afterAll(async () => {
    nl?.close();
    await deleteNetns(ns);
  });

  const routes = async (): Promise<string> => (await ip(ns, '-d', 'route', 'show', 'table', 'all')).stdout + (await ip(ns, '-6', '-d', 'route', 'show', 'table', 'all')).stdout;

  it('refuses every no-op with ESRCH and changes nothing a monitor or a dump could see', async () => {
    // a route the fast path would replace: it exists, so a write that reached it would show
    await ip(ns, 'route', 'add', '10.0.1.0/26', 'via', '172.30.0.11', 'dev', 'mga', 'proto', '80', 'onlink');
    const before = await routes();
    const monitor = spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let events = '';
    monitor.stdout.on('data', (d: Buffer) => { events += d.toString(); });
    try {
      await new Promise((r) => setTimeout(r, 200)); // the monitor has subscribed
      const real = (dst: string, family: 4 | 6, gateway: string): RouteWrite => ({
        op: 'replace', route: { family, dst, table: 254, protocol: 80, scope: 0, type: 'unicast', nexthops: [{ gateway, ifindex, onlink: true, weight: 1 }] },
      });
      const writes = [real('10.0.1.0/26', 4, '172.30.0.11'), real('10.0.2.0/26', 4, '172.30.0.12'), real('fd00:1::/122', 6, 'fd00::11')].map(refusedNoOp);
      const failures = nl.writeRoutes(writes);
      expect(failures.map((f) => [f.index, errnoName(f.errno)])).toEqual([[0, 'ESRCH'], [1, 'ESRCH'], [2, 'ESRCH']]);
      // the same route written for real does show (the monitor works)
      await ip(ns, 'route', 'add', '10.0.3.0/26', 'via', '172.30.0.11', 'dev', 'mga', 'proto', '80', 'onlink');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      monitor.kill('SIGTERM');
    }
    expect(events).toContain('10.0.3.0/26');
    expect(events).not.toContain('10.0.1.0/26');
    expect(events).not.toContain('10.0.2.0/26');
    expect(events).not.toContain('fd00:1::');
    await ip(ns, 'route', 'del', '10.0.3.0/26');
    expect(await routes()).toBe(before);
  });
});
