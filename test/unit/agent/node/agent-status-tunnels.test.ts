/**
 * The agent's status answer carries `tunnels` (so `margay status` prints its Tunnels
 * section): empty before the first dataplane pass, not absent. The rows themselves
 * are status-view.test.ts's; a lab shows them filled (vxlan-crosssubnet.test.ts).
 * The agent is built, not started.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../../../agent/node/agent.js';
import type { Datastore } from '../../../../agent/datastore/datastore.js';
import { MemoryIpamStore } from '../../../../agent/ipam/store.js';
import { renderStatus } from '../../../../agent/status/render.js';

describe('margay status: tunnels from the agent', () => {
  it('before any dataplane pass: an empty list, rendered as no tunnel devices', () => {
    const log = pino({ level: 'silent' });
    const datastore: Datastore = { name: 'kubernetes', start: () => new Promise<void>(() => undefined), stop: () => Promise.resolve() };
    const st = new Agent({
      node: 'node-a', datastore, ipamStore: new MemoryIpamStore(), cniSocket: null, statusSocket: '/nonexistent/status.sock', health: null, bgp: 'off',
      logs: { agent: log, bgp: log, dataplane: log, policy: log, cni: log },
    }).status();
    expect(st.tunnels).toEqual([]);
    expect(renderStatus(st)).toContain('Tunnels\nNo tunnel devices');
  });
});
