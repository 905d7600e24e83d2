/**
 * `margay status --json`'s bgpSynced is readiness's notion (bgp-mode.ts agentHealth):
 * with BGP off there is nothing to wait for, so a healthy BGP-off agent says true
 * (it said false: NodeBgp.synced() is false without a BGP core); with BGP on it is
 * false until the gate has opened. The agent is built, not started.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../../../agent/node/agent.js';
import type { Datastore } from '../../../../agent/datastore/datastore.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';

function agent(bgp: 'on' | 'off'): Agent {
  const log = pino({ level: 'silent' });
  const datastore: Datastore = { name: 'kubernetes', start: () => new Promise<void>(() => undefined), stop: () => Promise.resolve() };
  return new Agent({
    node: 'node-a', datastore, ipamStore: new MemoryIpamStore(), cniSocket: null, statusSocket: '/nonexistent/status.sock', health: null, bgp, // never started: no socket
    logs: { agent: log, bgp: log, dataplane: log, policy: log, cni: log },
  });
}

describe('margay status: bgpSynced says what readiness says', () => {
  it('BGP off: bgpSynced true, and no bgp reason among the readiness reasons', () => {
    const st = agent('off').status();
    expect(st.bgp).toBe('off');
    expect(st.bgpSynced).toBe(true);
    expect(st.reasons.some((r) => r.startsWith('bgp'))).toBe(false);
  });
  it('BGP on, gate not open yet: bgpSynced false, with the bgp reason', () => {
    const st = agent('on').status();
    expect(st.bgpSynced).toBe(false);
    expect(st.reasons.some((r) => r.startsWith('bgp'))).toBe(true);
  });
});
