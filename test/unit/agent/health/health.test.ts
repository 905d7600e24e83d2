import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../../../agent/health/metrics.js';
import { AgentMetrics, APPLY_COMPONENTS, readiness, type ApplyComponent, type Health } from '../../../../agent/health/agent-metrics.js';
import { serveHealth, type HealthServer } from '../../../../agent/health/server.js';

describe('metrics registry (Prometheus text format)', () => {
  it('renders counters, gauges and histograms with HELP/TYPE, sorted labels, escaping and cumulative buckets', () => {
    const m = new Metrics();
    const c = m.counter('x_total', 'A counter.');
    c({ b: '2', a: 'q"u\\o\nte' });
    c({ b: '2', a: 'q"u\\o\nte' }, 2);
    const g = m.gauge('y', 'A gauge.');
    g([{ value: 1 }]);
    g([{ labels: { s: 'Idle' }, value: 3 }]);
    const h = m.histogram('z_seconds', 'A histogram.', [0.1, 1]);
    h(0.05);
    h(0.5);
    h(5);
    expect(m.render()).toBe([
      '# HELP x_total A counter.', '# TYPE x_total counter', 'x_total{a="q\\"u\\\\o\\nte",b="2"} 3',
      '# HELP y A gauge.', '# TYPE y gauge', 'y{s="Idle"} 3',
      '# HELP z_seconds A histogram.', '# TYPE z_seconds histogram',
      'z_seconds_bucket{le="0.1"} 1', 'z_seconds_bucket{le="1"} 2', 'z_seconds_bucket{le="+Inf"} 3', 'z_seconds_sum 5.55', 'z_seconds_count 3',
      '',
    ].join('\n'));
    expect(() => m.gauge('x_total', 'again')).toThrow(/counter/);
  });

  it('agent metrics: sessions by every state (zeros included), prefixes per peer, IPAM per pool, errors by component', () => {
    const a = new AgentMetrics();
    a.observePeers([
      { address: '10.0.0.1', state: 'Established', received: 3, advertised: 1 },
      { address: '10.0.0.2', state: 'Active', received: 0, advertised: 0 },
    ]);
    a.observeBlocks([{ cidr: '10.244.0.0/26', pool: 'p', used: 5, size: 64 }, { cidr: '10.244.0.64/26', pool: 'p', used: 1, size: 64 }]);
    a.applied('policy', true);
    a.applied('policy', false);
    a.routeProgrammed(0.004);
    const text = a.render();
    expect(text).toContain('margay_bgp_sessions{state="Established"} 1');
    expect(text).toContain('margay_bgp_sessions{state="OpenSent"} 0');
    expect(text).toContain('margay_bgp_prefixes_received{peer="10.0.0.1"} 3');
    expect(text).toContain('margay_bgp_prefixes_advertised{peer="10.0.0.1"} 1');
    expect(text).toContain('margay_ipam_addresses_used{pool="p"} 6');
    expect(text).toContain('margay_ipam_addresses{pool="p"} 128');
    expect(text).toContain('margay_apply_errors_total{component="policy"} 1');
    expect(text).toContain('margay_applies_total{component="policy"} 2');
    expect(text).toContain('margay_route_programming_seconds_bucket{le="0.005"} 1');
    expect(text).toContain('margay_route_programming_seconds_count 1');
    // a peer that went away leaves no series behind
    a.observePeers([]);
    expect(a.render()).not.toContain('10.0.0.2');
  });

  it('readiness lists every reason until datastore, BGP and policy have synced', () => {
    expect(readiness({ datastoreSynced: false, bgpSynced: false, policySynced: false }).reasons).toHaveLength(3);
    expect(readiness({ datastoreSynced: true, bgpSynced: true, policySynced: false }).reasons).toEqual([expect.stringMatching(/^policy/)]);
    expect(readiness({ datastoreSynced: true, bgpSynced: true, policySynced: true }).reasons).toEqual([]);
  });
});

describe('health HTTP server', () => {
  let srv: HealthServer | undefined;
  afterEach(async () => { await srv?.close(); srv = undefined; });

  it('serves /healthz, /readyz (503 with reasons, then 200) and /metrics; 404 and 405 otherwise', async () => {
    let h: Health = readiness({ datastoreSynced: true, bgpSynced: false, policySynced: true });
    srv = await serveHealth({ health: () => h, metrics: () => 'm 1\n' }, { port: 0 });
    const get = async (p: string, method = 'GET') => {
      const r = await fetch(`http://127.0.0.1:${srv!.port}${p}`, { method });
      return { status: r.status, text: await r.text(), type: r.headers.get('content-type') };
    };
    expect(await get('/healthz')).toMatchObject({ status: 200, text: 'ok\n' });
    const nr = await get('/readyz');
    expect(nr.status).toBe(503);
    expect(nr.text).toContain('bgp: not synced');
    h = readiness({ datastoreSynced: true, bgpSynced: true, policySynced: true });
    expect(await get('/readyz')).toMatchObject({ status: 200, text: 'ready\n' });
    expect(await get('/metrics')).toMatchObject({ status: 200, text: 'm 1\n', type: expect.stringContaining('version=0.0.4') });
    expect((await get('/nope')).status).toBe(404);
    expect((await get('/metrics', 'POST')).status).toBe(405);
  });

  it('a metrics source that throws gets a 500 with the reason, and the server keeps serving', async () => {
    const h: Health = readiness({ datastoreSynced: true, bgpSynced: true, policySynced: true });
    srv = await serveHealth({ health: () => h, metrics: () => { throw new Error('boom'); } }, { port: 0 });
    const get = async (p: string) => {
      const r = await fetch(`http://127.0.0.1:${srv!.port}${p}`, { signal: AbortSignal.timeout(2000) });
      return { status: r.status, text: await r.text() };
    };
    expect(await get('/metrics')).toEqual({ status: 500, text: 'boom\n' });
    expect(await get('/healthz')).toEqual({ status: 200, text: 'ok\n' });
    expect(await get('/metrics')).toEqual({ status: 500, text: 'boom\n' });
  });
});

describe('agent metrics: names and series', () => {
  it('no family but a counter ends in _total (the suffix is reserved for counters)', () => {
    const text = new AgentMetrics().render();
    const families = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1] as string, type: m[2] as string }));
    expect(families.length).toBeGreaterThan(5);
    expect(families.filter((f) => f.type !== 'counter' && f.name.endsWith('_total'))).toEqual([]);
    expect(families.map((f) => f.name)).toContain('margay_ipam_addresses');
  });

  it('every recorded component has its applies and errors series at 0 from the start; HELP names only those', () => {
    const text = new AgentMetrics().render();
    for (const c of APPLY_COMPONENTS) {
      expect(text).toContain(`margay_apply_errors_total{component="${c}"} 0`);
      expect(text).toContain(`margay_applies_total{component="${c}"} 0`);
    }
    expect(text).toContain('margay_apply_errors_total{component="dataplane"} 0');
    const help = /^# HELP margay_apply_errors_total (.*)$/m.exec(text)?.[1] ?? '';
    expect(help).not.toMatch(/bgp|datastore/);
    for (const c of APPLY_COMPONENTS) expect(help).toContain(c);
  });

  it('errors never exceed applies, whatever the mix of outcomes', () => {
    const a = new AgentMetrics();
    const outcomes: [ApplyComponent, boolean][] = [['dataplane', false], ['ipam', false], ['policy', true], ['policy', false], ['dataplane', true]];
    for (const [c, ok] of outcomes) {
      a.applied(c, ok);
      for (const x of APPLY_COMPONENTS) {
        const errors = a.registry.value('margay_apply_errors_total', { component: x }) ?? 0;
        const applies = a.registry.value('margay_applies_total', { component: x }) ?? 0;
        expect(errors).toBeLessThanOrEqual(applies);
      }
    }
    expect(a.registry.value('margay_applies_total', { component: 'dataplane' })).toBe(2);
    expect(a.registry.value('margay_apply_errors_total', { component: 'ipam' })).toBe(1);
  });
});
