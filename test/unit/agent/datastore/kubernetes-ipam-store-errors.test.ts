/**
 * KubernetesIpamStore failures as the CNI runtime sees them: an API server answering
 * 503 or 429, or one that cannot be reached, is "try again later" (CNI code 11), a
 * refusal (403) an I/O failure (5) — never "agent bug" (104). The store's errors are
 * IpamErrors that keep the verb, path and status. A local HTTP server on 127.0.0.1
 * plays the API server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesIpamStore, storeError } from '../../../../agent/datastore/kubernetes-ipam-store.js';

const storeErrorOf = (e: unknown) => storeError(e, 'GET', '/x');
import { kubeRequest, KubeRequestError, loadKubeConfig } from '../../../../agent/datastore/kubernetes-transport.js';
import { Ipam } from '../../../../agent/ipam/allocator.js';
import { IpamError } from '../../../../agent/ipam/errors.js';
import { ipamToCni } from '../../../../agent/cni/handler.js';

/** Answers every request with `status` and a Kubernetes Status body. */
async function apiAnswering(status: number, reason: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status, reason, message: 'etcdserver: leader changed' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

/** A URL on 127.0.0.1 nothing listens on (a port just released). */
async function deadUrl(): Promise<string> {
  const api = await apiAnswering(200, '');
  await api.close();
  return api.url;
}

const cniCodeOf = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
  } catch (e) {
    return ipamToCni(e).code;
  }
  throw new Error('expected a failure');
};
const ipamOn = (url: string): Ipam => new Ipam({ store: new KubernetesIpamStore(loadKubeConfig({ server: url })), node: 'n1', pools: [{ name: 'p', spec: { cidr: '10.0.0.0/24' } }] });

describe('KubernetesIpamStore errors → CNI codes', () => {
  const servers: { close: () => Promise<void> }[] = [];
  let s503 = '';
  let s429 = '';
  let s403 = '';
  let s408 = '';
  beforeAll(async () => {
    const a = await apiAnswering(503, 'ServiceUnavailable');
    const b = await apiAnswering(429, 'TooManyRequests');
    const c = await apiAnswering(403, 'Forbidden');
    const d = await apiAnswering(408, 'Timeout');
    servers.push(a, b, c, d);
    [s503, s429, s403, s408] = [a.url, b.url, c.url, d.url];
  });
  afterAll(async () => { await Promise.all(servers.map((s) => s.close())); });

  it('an ADD against an API server answering 503 or 429 is "try again later" (11), naming verb, path and status', async () => {
    expect(await cniCodeOf(ipamOn(s503).assign({ handle: 'k8s.c1.eth0', containerId: 'c1' }))).toBe(11);
    expect(await cniCodeOf(ipamOn(s429).assign({ handle: 'k8s.c1.eth0', containerId: 'c1' }))).toBe(11);
    expect(await cniCodeOf(ipamOn(s408).assign({ handle: 'k8s.c1.eth0', containerId: 'c1' }))).toBe(11);
    const e = await new KubernetesIpamStore(loadKubeConfig({ server: s503 })).get('handle', 'k8s.c1.eth0').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IpamError);
    expect((e as IpamError).reason).toBe('unavailable');
    expect((e as Error).message).toMatch(/GET \/apis\/margay\.io\/v1\/ipamhandles\/.*etcdserver: leader changed \(HTTP 503\)/);
  });

  it('a DEL against an API server that cannot be reached is "try again later" (11)', async () => {
    const url = await deadUrl();
    expect(await cniCodeOf(ipamOn(url).release('k8s.c1.eth0'))).toBe(11);
    const e = await new KubernetesIpamStore(loadKubeConfig({ server: url })).list('block').catch((x: unknown) => x);
    expect((e as IpamError).reason).toBe('unavailable');
    expect((e as Error).message).toMatch(/^Kubernetes API: GET \/apis\/margay\.io\/v1\/ipamblocks: fetch failed: .*ECONNREFUSED/);
  });

  it('a refusal that retrying will not cure (403) is an I/O failure (5)', async () => {
    expect(await cniCodeOf(ipamOn(s403).assign({ handle: 'k8s.c1.eth0', containerId: 'c1' }))).toBe(5);
    const e = await new KubernetesIpamStore(loadKubeConfig({ server: s403 })).put('block', '10.0.0.0/26', { cidr: '10.0.0.0/26', pool: 'p', affinity: null, allocations: [], attributes: {} }, undefined).catch((x: unknown) => x);
    expect((e as IpamError).reason).toBe('store');
    expect((e as Error).message).toContain('(HTTP 403)');
  });
});

describe('kubeRequest: an API server that never answers', () => {
  it('gives up after the request timeout with a 408 (try again later), naming the request', async () => {
    const hung: Server = createServer(() => undefined); // reads the request, never answers
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
      const t0 = Date.now();
      const e = await kubeRequest(loadKubeConfig({ server: url }), 'GET', '/api/v1/namespaces/kube-system/secrets/bgp', undefined, { timeoutMs: 300 }).catch((x: unknown) => x);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(e).toBeInstanceOf(KubeRequestError);
      expect((e as KubeRequestError).statusCode).toBe(408);
      expect((e as Error).message).toBe('GET /api/v1/namespaces/kube-system/secrets/bgp: no answer within 300 ms');
      expect(ipamToCni(storeErrorOf(e)).code).toBe(11);
    } finally {
      await new Promise<void>((resolve) => { hung.close(() => resolve()); hung.closeAllConnections(); });
    }
  });
});
