import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodLink } from '../../../../agent/cni/handler.js';
import { addNetns, deleteNetns, ip, netnsExec, newRunPrefix } from '../../../../agent/lab/netns.js';
import { REPO_ROOT } from '../../../support/cli.js';
import { requirements } from '../../../support/root.js';

// IpPodWiring runs in its process's namespace: the test runs it (built) inside a node namespace.
const IP_WIRING_JS = join(REPO_ROOT, 'dist', 'agent', 'cni', 'ip-wiring.js');
const req = requirements({ root: true, built: [IP_WIRING_JS], file: import.meta.url });

describe.skipIf(req.skip)(`IpPodWiring writes its sysctls under the configured root (${req.why})`, () => {
  const prefix = newRunPrefix();
  const node = `${prefix}node`;
  const pod = `${prefix}pod`;
  const hostIf = 'mgwiproot1';
  const root = mkdtempSync(join(tmpdir(), 'mg-procsys-ip-'));
  const link: PodLink = {
    hostIf, podIf: 'eth0', netns: `/run/netns/${pod}`,
    addresses: [
      { family: 4, address: '10.244.11.5', prefix: 32, block: '10.244.11.0/26', pool: 'p' },
      { family: 6, address: 'fd44:11::5', prefix: 128, block: 'fd44:11::/122', pool: 'p6' },
    ],
  };

  beforeAll(async () => {
    await addNetns(node);
    await addNetns(pod);
    for (const d of ['ipv4/conf', 'ipv4/neigh', 'ipv6/conf', 'ipv6/neigh']) mkdirSync(join(root, 'net', d, hostIf), { recursive: true });
    for (const d of ['eth0', 'all', 'default', 'lo']) mkdirSync(join(root, 'net/ipv6/conf', d), { recursive: true });
  });
  afterAll(async () => {
    await deleteNetns(pod).catch(() => undefined);
    await deleteNetns(node).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('ADD writes accept_dad (both ends), proxy_arp, forwarding, proxy_delay, proxy_ndp there; the node namespace keeps its own values', async () => {
    const code = 'const { IpPodWiring } = await import(process.argv[1]); await new IpPodWiring({ procSys: process.argv[2] }).add(JSON.parse(process.argv[3]));';
    await netnsExec(node, [process.execPath, '--input-type=module', '-e', code, IP_WIRING_JS, root, JSON.stringify(link)], { timeoutMs: 20_000 });
    const at = (p: string): string => readFileSync(join(root, 'net', p), 'utf8');
    expect(at(`ipv6/conf/${hostIf}/accept_dad`)).toBe('0');
    expect(at('ipv6/conf/eth0/accept_dad')).toBe('0');
    for (const d of ['all', 'default', 'lo', 'eth0', hostIf]) expect(at(`ipv6/conf/${d}/disable_ipv6`), d).toBe('0');
    expect(at(`ipv4/conf/${hostIf}/proxy_arp`)).toBe('1');
    expect(at(`ipv4/conf/${hostIf}/forwarding`)).toBe('1');
    expect(at(`ipv4/neigh/${hostIf}/proxy_delay`)).toBe('0');
    expect(at(`ipv6/conf/${hostIf}/proxy_ndp`)).toBe('1');
    expect(at(`ipv6/conf/${hostIf}/forwarding`)).toBe('1');
    expect(at(`ipv6/neigh/${hostIf}/proxy_delay`)).toBe('0');
    // the wiring itself happened (in the node namespace), its sysctls untouched there
    expect((await ip(node, 'route', 'show', '10.244.11.5')).stdout).toContain(`dev ${hostIf}`);
    const sysctl = async (k: string): Promise<string> => (await netnsExec(node, ['sysctl', '-n', k])).stdout.trim();
    expect(await sysctl(`net.ipv4.conf.${hostIf}.proxy_arp`)).toBe('0');
    expect(await sysctl(`net.ipv6.conf.${hostIf}.proxy_ndp`)).toBe('0');
  });
});
