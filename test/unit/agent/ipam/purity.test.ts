import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The pure core of IPAM and of the CNI side: no sockets, processes, files, netlink,
// logger or clock, and relative imports only of other pure files. (eslint.config.js
// has no override for agent/ folders, so this test is the failing check.)
const repo = new URL('../../../../', import.meta.url).pathname;
const PURE = [
  'agent/ipam/cidr.ts', 'agent/ipam/selector.ts', 'agent/ipam/pool.ts', 'agent/ipam/block.ts', 'agent/ipam/store.ts',
  'agent/ipam/types.ts', 'agent/ipam/errors.ts', 'agent/ipam/allocator.ts', 'agent/ipam/gc.ts', 'agent/ipam/handle.ts',
  'policy/model/cidr.ts',
  'agent/cni/errors.ts', 'agent/cni/protocol.ts', 'agent/cni/wire.ts', 'agent/cni/names.ts', 'agent/cni/handler.ts',
];
const FORBIDDEN = /from '(node:)?(net|child_process|fs|fs\/promises|dgram|http|os)'|from '(node-netlink|syscall-napi|pino|@kubernetes\/client-node)'|\bDate\b|process\./;

describe('IPAM and CNI pure core', () => {
  it.each(PURE)('%s touches nothing outside and imports only pure files', (file) => {
    const text = readFileSync(join(repo, file), 'utf8');
    expect(FORBIDDEN.exec(text)?.[0] ?? 'clean').toBe('clean');
    const rel = [...text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)].map((m) => relative(repo, normalize(join(dirname(join(repo, file)), `${m[1]}.ts`))));
    for (const r of rel) expect(PURE, `${file} imports ${r}`).toContain(r);
  });
});
