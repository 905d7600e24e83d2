import { describe, expect, it } from 'vitest';
import { agentHealth, parseBgpMode } from '../../../../agent/node/bgp-mode.js';
import { renderStatus } from '../../../../agent/status/render.js';
import type { AgentStatus } from '../../../../agent/status/types.js';

describe('BGP mode (--bgp / MARGAY_BGP)', () => {
  it.each([
    [undefined, 'on'], ['', 'on'], ['on', 'on'], ['ON', 'on'], ['true', 'on'], ['enabled', 'on'],
    ['off', 'off'], ['Off', 'off'], ['false', 'off'], ['disabled', 'off'], [' off ', 'off'],
  ])('%j → %s', (text, mode) => {
    expect(parseBgpMode(text)).toBe(mode);
  });

  it.each(['bird', 'no', '0', 'of'])('%j is refused with the flag named', (text) => {
    expect(parseBgpMode(text)).toEqual({ error: `--bgp must be on or off, got "${text}"` });
  });
});

describe('agent readiness by BGP mode', () => {
  const base = { datastoreSynced: true, policySynced: true };
  it('BGP on: not ready until the BGP gate has opened (peers synced or the bound passed)', () => {
    const h = agentHealth({ ...base, mode: 'on', gateOpen: false });
    expect(h.bgpSynced).toBe(false);
    expect(h.reasons).toEqual([expect.stringMatching(/^bgp: not synced/)]);
    expect(agentHealth({ ...base, mode: 'on', gateOpen: true }).reasons).toEqual([]);
  });

  it('a routes pass that failed (and none reported since) makes the agent not ready, naming the error', () => {
    const h = agentHealth({ ...base, mode: 'off', gateOpen: true, routesError: 'no device nosuchdev0' });
    expect(h.reasons).toEqual(['routes: the last pass failed (no device nosuchdev0)']);
    expect(agentHealth({ ...base, mode: 'on', gateOpen: true }).reasons).toEqual([]);
  });

  it('BGP off: readiness never waits for BGP, only for the datastore and policy', () => {
    expect(agentHealth({ ...base, mode: 'off', gateOpen: false }).reasons).toEqual([]);
    const h = agentHealth({ mode: 'off', gateOpen: false, datastoreSynced: false, policySynced: false });
    expect(h.reasons).toHaveLength(2);
    expect(h.reasons.some((r) => r.startsWith('bgp'))).toBe(false);
  });
});

describe('margay status with BGP off', () => {
  const st: AgentStatus = {
    node: 'n1', ready: true, reasons: [], bgpSynced: false, bgp: 'off', peers: [], routes: [{ prefix: '10.244.0.0/26', via: 'blackhole', reason: 'own block' }],
    blocks: [], policy: { policies: 0, rejected: 0, localPods: 0, applies: 1, failures: 0, lastError: null, synced: true }, problems: [],
  };
  it('says BGP is off instead of an empty peers table', () => {
    const text = renderStatus(st);
    expect(text).toContain('BGP is off (--bgp off)');
    expect(text).not.toContain('BGP status');
    expect(text).toContain('10.244.0.0/26');
  });
  it('BGP on (no field) keeps the peers table', () => {
    const { bgp: _, ...on } = st;
    expect(renderStatus(on)).toContain('IPv4 BGP status');
  });
});
