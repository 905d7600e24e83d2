import { describe, expect, it } from 'vitest';
import { AgentSpeakerCore, clampRestartTimers } from '../../../../agent/node/bgp-core.js';
import type { PeerConfig, RouteChange } from '../../../../bgp/speaker/index.js';
import type { SpeakerConfig } from '../../../../bgp/session/config.js';

const cfg = {} as SpeakerConfig; // the agent's core reads its settings from setPeers/setOriginated only
const peer = (address: string, extra: Partial<PeerConfig> = {}): PeerConfig => ({ address, asn: 64512, passive: false, gracefulRestart: true, families: ['ipv4'], port: 179, ...extra });

function core(): { c: AgentSpeakerCore; routes: RouteChange[] } {
  const routes: RouteChange[] = [];
  const c = new AgentSpeakerCore({ asn: 64512, routerId: '10.0.0.1', restartTime: 120, onRoutes: (r) => routes.push(...r) });
  return { c, routes };
}

describe('the agent speaker core', () => {
  it('reconciles peers: unchanged peers get no action, a removed or changed peer only its own', () => {
    const { c } = core();
    c.setPeers([peer('10.0.0.2'), peer('10.0.0.3')]);
    const start = c.start(0);
    expect(new Set(start.map((a) => a.peer))).toEqual(new Set(['10.0.0.2', '10.0.0.3']));
    c.setPeers([peer('10.0.0.2'), peer('10.0.0.3')]);
    expect(c.reconfigure(cfg, 1)).toEqual([]);
    c.setPeers([peer('10.0.0.2')]);
    const removed = c.reconfigure(cfg, 2);
    expect(removed.length).toBeGreaterThan(0);
    expect(removed.every((a) => a.peer === '10.0.0.3')).toBe(true);
    c.setPeers([peer('10.0.0.2', { password: 'x' })]);
    const changed = c.reconfigure(cfg, 3);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((a) => a.peer === '10.0.0.2')).toBe(true);
    expect(c.status(4).peers.map((p) => p.address)).toEqual(['10.0.0.2']);
  });

  it('originated prefixes are replaced whole and reported as routes with no next hop', () => {
    const { c, routes } = core();
    c.setOriginated(['10.244.0.0/26', '10.244.0.64/26']);
    c.start(0);
    expect(routes.map((r) => [r.prefix, r.kind, r.nextHops])).toEqual([['10.244.0.0/26', 'add', []], ['10.244.0.64/26', 'add', []]]);
    routes.length = 0;
    c.setOriginated(['10.244.0.64/26']);
    c.reconfigure(cfg, 1);
    expect(routes.map((r) => [r.prefix, r.kind])).toEqual([['10.244.0.0/26', 'remove']]);
  });

  it('synced only when every peer is Established; a graceful shutdown sends no NOTIFICATION', () => {
    const { c } = core();
    c.setPeers([peer('10.0.0.2')]);
    c.start(0);
    expect(c.synced()).toEqual({ synced: false, waiting: ['10.0.0.2'] });
    expect(c.shutdown(1)).toEqual([]);
    c.graceful = false;
    expect(c.shutdown(2).some((a) => a.peer === '10.0.0.2' && a.action.type === 'stateChange')).toBe(true);
  });

  it('not synced before start() has added the peers, even with none set up yet', () => {
    const { c } = core();
    expect(c.synced().synced).toBe(false);
    c.setPeers([peer('10.0.0.2')]);
    expect(c.synced()).toEqual({ synced: false, waiting: ['10.0.0.2'] });
    const { c: empty } = core();
    empty.start(0);
    expect(empty.synced()).toEqual({ synced: true, waiting: [] }); // started with no peers configured: nothing to wait for
  });

  it('configured peers left out (Secret unreadable) are waited on: a start where every peer is skipped is not synced', () => {
    const { c } = core();
    c.setPeers([], new Map(), ['10.0.0.2', '10.0.0.3']);
    c.start(0);
    expect(c.synced()).toEqual({ synced: false, waiting: ['10.0.0.2', '10.0.0.3'] });
    c.setPeers([peer('10.0.0.2'), peer('10.0.0.3')], new Map(), []);
    c.reconfigure(cfg, 1);
    expect(c.synced()).toEqual({ synced: false, waiting: ['10.0.0.2', '10.0.0.3'] });
  });

  it('maxRestartTime cuts the graceful-restart timer of that peer only, and never lengthens it', () => {
    const caps = new Map([['10.0.0.2', 5]]);
    const actions = [
      { peer: '10.0.0.2', action: { type: 'startTimer' as const, name: 'GrRestart' as const, ms: 120_000 } },
      { peer: '10.0.0.3', action: { type: 'startTimer' as const, name: 'GrRestart' as const, ms: 120_000 } },
      { peer: '10.0.0.2', action: { type: 'startTimer' as const, name: 'Hold' as const, ms: 90_000 } },
      { peer: '10.0.0.2', action: { type: 'stopTimer' as const, name: 'GrRestart' as const } },
    ];
    expect(clampRestartTimers(actions, caps).map((a) => (a.action.type === 'startTimer' ? a.action.ms : 'stop'))).toEqual([5000, 120_000, 90_000, 'stop']);
    expect(clampRestartTimers([{ peer: '10.0.0.2', action: { type: 'startTimer', name: 'GrRestart', ms: 1000 } }], caps)[0]?.action).toMatchObject({ ms: 1000 });
  });
});
