import { describe, expect, it } from 'vitest';
import { cleanupNode, renderCleanupReport, type CleanupDeps, type CleanupOptions } from '../../../../agent/dataplane/cleanup.js';
import type { Rtnl, RouteWrite } from '../../../../agent/dataplane/kernel/rtnl.js';
import type { Exec as NatExec } from '../../../../agent/dataplane/nat-outgoing.js';
import type { AddrMsg } from '../../../../agent/dataplane/netlink/addr.js';
import { IFF_UP, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN } from '../../../../agent/dataplane/netlink/constants.js';
import type { LinkMsg } from '../../../../agent/dataplane/netlink/link.js';
import type { RouteMsg } from '../../../../agent/dataplane/netlink/route.js';
import { ExecFailure, type Exec as PolicyExec } from '../../../../policy/apply/exec.js';

// Fakes that model the kernel just enough: each removal changes what the next read
// sees, so a second run shows what really is left.

function fakeRtnl(): { nl: Rtnl; links: LinkMsg[]; addrs: AddrMsg[]; routes: RouteMsg[]; writes: RouteWrite[]; deletedLinks: number[] } {
  const links: LinkMsg[] = [
    { index: 1, name: 'lo', flags: IFF_UP },
    { index: 2, name: 'eth0', flags: IFF_UP },
    { index: 3, name: 'vxlan.margay', flags: IFF_UP, info: { kind: 'vxlan', vxlan: { vni: 4096, port: 4789, learning: false } } },
    { index: 4, name: 'vxlan-v6.margay', flags: IFF_UP, info: { kind: 'other', name: 'dummy' } },
    { index: 5, name: 'tunl0', flags: IFF_UP, info: { kind: 'ipip', ipip: {} } },
    { index: 6, name: 'flannel.1', flags: IFF_UP, info: { kind: 'vxlan', vxlan: { vni: 1, port: 8472, learning: false } } },
  ];
  const addrs: AddrMsg[] = [
    { family: 4, ifindex: 2, address: '192.0.2.10/24', scope: RT_SCOPE_UNIVERSE, flags: 0 },
    { family: 4, ifindex: 5, address: '10.244.1.0/32', scope: RT_SCOPE_UNIVERSE, flags: 0 },
  ];
  const route = (dst: string, protocol: number, extra: Partial<RouteMsg> = {}): RouteMsg => ({
    family: dst.includes(':') ? 6 : 4, dst, table: RT_TABLE_MAIN, protocol, scope: RT_SCOPE_UNIVERSE, type: 'unicast', nexthops: [], ...extra,
  });
  const routes: RouteMsg[] = [
    route('10.244.1.0/26', 80, { type: 'blackhole' }),
    route('10.244.2.0/26', 80, { nexthops: [{ gateway: '10.244.2.0', ifindex: 3, onlink: true, weight: 1 }] }),
    route('fd00:244::/122', 80, { type: 'blackhole' }),
    route('10.244.1.5/32', 81, { scope: RT_SCOPE_LINK, nexthops: [{ ifindex: 9, onlink: false, weight: 1 }] }),
    route('198.51.100.0/24', 4, { nexthops: [{ gateway: '192.0.2.1', ifindex: 2, onlink: false, weight: 1 }] }),
    route('10.9.0.0/16', 80, { table: 100, type: 'blackhole' }),
  ];
  const writes: RouteWrite[] = [];
  const deletedLinks: number[] = [];
  const nl: Rtnl = {
    links: () => links.map((l) => ({ ...l })),
    linkByName: (name) => links.find((l) => l.name === name),
    addLink: () => { throw new Error('cleanup adds no link'); },
    setLink: () => { throw new Error('cleanup changes no link'); },
    deleteLink: (index) => {
      deletedLinks.push(index);
      links.splice(links.findIndex((l) => l.index === index), 1);
    },
    addrs: (family) => addrs.filter((a) => family === undefined || a.family === family).map((a) => ({ ...a })),
    addAddr: () => { throw new Error('cleanup adds no address'); },
    deleteAddr: (a) => { addrs.splice(addrs.findIndex((x) => x.ifindex === a.ifindex && x.address === a.address), 1); },
    routes: (family) => routes.filter((r) => r.family === family).map((r) => ({ ...r })),
    writeRoutes: (ws) => {
      writes.push(...ws);
      for (const w of ws) {
        if (w.op !== 'delete') throw new Error('cleanup only deletes routes');
        const i = routes.findIndex((r) => r.dst === w.route.dst && r.protocol === w.route.protocol && r.table === w.route.table);
        if (i >= 0) routes.splice(i, 1);
      }
      return [];
    },
    neighs: () => [],
    writeNeighs: () => [],
    close: () => undefined,
  };
  return { nl, links, addrs, routes, writes, deletedLinks };
}

const SAVE_V4 = [
  '*filter',
  ':INPUT ACCEPT [0:0]',
  ':FORWARD ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  ':MARGAY-FORWARD - [0:0]',
  ':MARGAY-POL-abc - [0:0]',
  ':KUBE-FORWARD - [0:0]',
  '-A FORWARD -m comment --comment "margay:hook" -j MARGAY-FORWARD',
  '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
  '-A FORWARD -s 198.51.100.0/24 -j ACCEPT',
  '-A MARGAY-FORWARD -m comment --comment "margay:1a2b" -j MARGAY-POL-abc',
  '-A MARGAY-POL-abc -m comment --comment "margay:3c4d" -j ACCEPT',
  'COMMIT',
];

/** iptables-save / ipset save over a mutable model; restore input edits it (-D hook, -F, -X, destroy). */
function fakePolicyKernel(v4: string[] = [...SAVE_V4]): { exec: PolicyExec; state: { v4: string[]; sets: string[] }; writes: { argv: string[]; input?: string }[] } {
  const state = { v4, sets: ['create margay-pods-x hash:ip family inet hashsize 1024 maxelem 1048576', 'add margay-pods-x 10.244.1.5', 'create KUBE-SVC-foreign hash:ip family inet'] };
  const writes: { argv: string[]; input?: string }[] = [];
  const exec: PolicyExec = {
    run: async (argv, input) => {
      const tool = argv[0];
      if (tool === 'iptables-save') return { stdout: `${state.v4.join('\n')}\n`, stderr: '' };
      if (tool === 'ip6tables-save') return { stdout: '*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n', stderr: '' };
      if (tool === 'ipset' && argv[1] === 'save') return { stdout: `${state.sets.join('\n')}\n`, stderr: '' };
      writes.push({ argv, ...(input !== undefined ? { input } : {}) });
      for (const line of (input ?? '').split('\n')) {
        let m = /^-D (\S+) .*-j (\S+)$/.exec(line);
        if (m) {
          const i = state.v4.findIndex((l) => l.startsWith(`-A ${m?.[1]} `) && l.includes('margay:hook') && l.endsWith(`-j ${m?.[2]}`));
          if (i < 0) throw new ExecFailure(argv, 1, 'iptables-restore: line 2 failed');
          state.v4.splice(i, 1);
        }
        m = /^-F (\S+)$/.exec(line);
        if (m) state.v4 = state.v4.filter((l) => !l.startsWith(`-A ${m?.[1]} `));
        m = /^-X (\S+)$/.exec(line);
        if (m) state.v4 = state.v4.filter((l) => !l.startsWith(`:${m?.[1]} `));
        m = /^destroy (\S+)$/.exec(line);
        if (m) state.sets = state.sets.filter((l) => l.split(' ')[1] !== m?.[1]);
      }
      return { stdout: '', stderr: '' };
    },
  };
  return { exec, state, writes };
}

function fakeNat(present: boolean): { exec: NatExec; calls: string[]; state: { jump: boolean; chain: boolean } } {
  const state = { jump: present, chain: present };
  const calls: string[] = [];
  const exec: NatExec = async (argv) => {
    calls.push(argv.join(' '));
    // IPv4 only: ip6tables' nat table has nothing of margay's
    const v4 = argv[0] === 'iptables';
    const verb = argv.find((a) => ['-C', '-S', '-D', '-F', '-X'].includes(a));
    const ok = { code: 0, stdout: '', stderr: '' };
    const no = { code: 1, stdout: '', stderr: 'No chain/target/match by that name.' };
    if (verb === '-C') return v4 && state.jump ? ok : no;
    if (verb === '-S') return v4 && state.chain ? { ...ok, stdout: '-N MARGAY-NAT-OUTGOING\n' } : no;
    if (verb === '-D') state.jump = false;
    if (verb === '-X') state.chain = false;
    return ok;
  };
  return { exec, calls, state };
}

function node(o: { nat?: boolean; files?: string[] } = {}) {
  const k = fakeRtnl();
  const p = fakePolicyKernel();
  const n = fakeNat(o.nat ?? true);
  const files = new Set(o.files ?? ['/etc/cni/net.d/10-margay.conflist']);
  const removedFiles: string[] = [];
  const deps: CleanupDeps = {
    nl: k.nl, exec: p.exec, natExec: n.exec,
    fs: { exists: (f) => files.has(f), remove: (f) => { files.delete(f); removedFiles.push(f); } },
  };
  return { k, p, n, files, removedFiles, deps };
}

const opts = (o: Partial<CleanupOptions> = {}): CleanupOptions => ({ dryRun: false, pods: false, cniFiles: ['/etc/cni/net.d/10-margay.conflist'], ...o });

describe('cleanupNode', () => {
  it("removes margay's routes, devices, tunl0 address, chains, hooks, sets, NAT and conflist — and nothing else", async () => {
    const t = node();
    const r = await cleanupNode(t.deps, opts());
    expect(r.errors).toEqual([]);
    // routes: protocol 80 in main only; the pod route (81), the foreign route (4) and table 100 stay
    expect(t.k.routes.map((x) => `${x.dst} ${x.protocol} ${x.table}`).sort()).toEqual(['10.244.1.5/32 81 254', '10.9.0.0/16 80 100', '198.51.100.0/24 4 254']);
    expect(t.k.writes.every((w) => w.op === 'delete')).toBe(true);
    // devices: the VXLAN device goes; a non-VXLAN device of margay's v6 name, tunl0, flannel.1 stay
    expect(t.k.deletedLinks).toEqual([3]);
    expect(t.k.links.map((l) => l.name)).toEqual(['lo', 'eth0', 'vxlan-v6.margay', 'tunl0', 'flannel.1']);
    // tunl0 loses its address, eth0 keeps its own
    expect(t.k.addrs.map((a) => a.address)).toEqual(['192.0.2.10/24']);
    // iptables: margay's hook, chains gone; kubernetes' hook, chain and the foreign rule stay
    expect(t.p.state.v4.filter((l) => l.includes('MARGAY') || l.includes('margay'))).toEqual([]);
    expect(t.p.state.v4).toContain('-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD');
    expect(t.p.state.v4).toContain('-A FORWARD -s 198.51.100.0/24 -j ACCEPT');
    expect(t.p.state.v4).toContain(':KUBE-FORWARD - [0:0]');
    expect(t.p.state.sets).toEqual(['create KUBE-SVC-foreign hash:ip family inet']);
    expect(t.n.state).toEqual({ jump: false, chain: false });
    expect(t.removedFiles).toEqual(['/etc/cni/net.d/10-margay.conflist']);
    const kinds = r.removed.map((i) => i.kind);
    expect(kinds.filter((k) => k === 'route')).toHaveLength(3);
    expect(r.removed).toContainEqual({ kind: 'device', what: 'vxlan.margay' });
    expect(r.removed).toContainEqual({ kind: 'address', what: '10.244.1.0/32 on tunl0' });
    expect(r.removed).toContainEqual({ kind: 'ipset', what: 'margay-pods-x' });
    expect(r.removed).toContainEqual({ kind: 'iptables', what: 'iptables filter: FORWARD jump to MARGAY-FORWARD' });
    expect(r.removed).toContainEqual({ kind: 'nat', what: 'iptables nat: chain MARGAY-NAT-OUTGOING' });
  });

  it('a second run finds nothing and writes nothing', async () => {
    const t = node();
    await cleanupNode(t.deps, opts());
    const writesBefore = t.p.writes.length;
    const routeWrites = t.k.writes.length;
    const again = await cleanupNode(t.deps, opts());
    expect(again).toEqual({ removed: [], errors: [] });
    expect(t.p.writes.length).toBe(writesBefore);
    expect(t.k.writes.length).toBe(routeWrites);
    // the NAT -D/-F/-X of the first run only: the second run only probes
    expect(t.n.calls.filter((c) => / -[DFX] /.test(c))).toHaveLength(3);
    expect(renderCleanupReport(again, false)).toContain('nothing removed');
  });

  it('--pods also removes the pod routes (protocol 81)', async () => {
    const t = node();
    const r = await cleanupNode(t.deps, opts({ pods: true }));
    expect(r.errors).toEqual([]);
    expect(t.k.routes.map((x) => x.dst).sort()).toEqual(['10.9.0.0/16', '198.51.100.0/24']);
  });

  it('--dry-run lists the same objects and changes nothing', async () => {
    const real = await cleanupNode(node().deps, opts());
    const t = node();
    const dry = await cleanupNode(t.deps, opts({ dryRun: true }));
    expect(dry.removed).toEqual(real.removed);
    expect(t.k.writes).toEqual([]);
    expect(t.k.deletedLinks).toEqual([]);
    expect(t.k.addrs).toHaveLength(2);
    expect(t.p.writes).toEqual([]);
    expect(t.n.state).toEqual({ jump: true, chain: true });
    expect(t.removedFiles).toEqual([]);
    expect(renderCleanupReport(dry, true)).toMatch(/^would remove device: vxlan.margay$/m);
  });

  it('a failing step is reported and the other steps still run', async () => {
    const t = node();
    t.deps.exec = { run: async (argv) => { throw new ExecFailure(argv, 1, 'iptables-save: permission denied'); } };
    const r = await cleanupNode(t.deps, opts());
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^policy: /);
    expect(t.k.deletedLinks).toEqual([3]);
    expect(t.removedFiles).toHaveLength(1);
    expect(renderCleanupReport(r, false)).toMatch(/^error: policy: /m);
  });

  it('no CNI files given: the conflist stays', async () => {
    const t = node();
    await cleanupNode(t.deps, opts({ cniFiles: [] }));
    expect(t.files.size).toBe(1);
  });
});
