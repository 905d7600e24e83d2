import { describe, expect, it } from 'vitest';
import type { SpeakerConfig } from '../../../../bgp/session/config.js';
import type { DriverLog } from '../../../../bgp/session/driver.js';
import { SpeakerRuntime, type SpeakerCore } from '../../../../bgp/session/runtime.js';
import { PureSpeakerCore } from '../../../../bgp/session/speaker-core.js';
import type { Transport } from '../../../../bgp/session/transport.js';
import { wireCodec } from '../../../../bgp/session/wire-codec.js';

// The runtime's reload (SIGHUP) against a fake core and transport: no sockets, no listener.

function recLog(): DriverLog & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string): void => { lines.push({ level, obj, msg }); };
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

const transport: Transport = { connect: () => new Promise(() => undefined), listen: () => Promise.reject(new Error('unused')) };

function config(over: Partial<SpeakerConfig> = {}): SpeakerConfig {
  return {
    asn: 65001, routerId: '10.0.0.1', listen: null, originate: [], restartTime: 120,
    neighbors: [{ address: '10.0.0.2', asn: 65002, passive: true, routeReflectorClient: false, holdTime: 90, families: ['ipv4'], nextHopSelf: false, gracefulRestart: false, port: 179 }],
    ...over,
  };
}

describe('speaker runtime reload', () => {
  it('a reconfigure that throws is logged, never thrown out; the runtime keeps the running config and keeps serving', async () => {
    const log = recLog();
    const base = new PureSpeakerCore(config());
    let calls = 0;
    const core: SpeakerCore = Object.assign(Object.create(base) as SpeakerCore, {
      reconfigure: (): never => { calls++; throw new Error('boom in reconfigure'); },
    });
    const rt = new SpeakerRuntime({ config: config(), core, codec: wireCodec, log, transport });
    await rt.start();
    let ok: boolean | undefined;
    expect(() => { ok = rt.reload(config({ originate: [{ prefix: '10.9.0.0/24', communities: [] }] })); }).not.toThrow();
    expect(ok).toBe(false);
    expect(calls).toBe(1);
    const err = log.lines.find((l) => l.level === 'error');
    expect(err?.msg).toContain('config reload failed');
    expect(JSON.stringify(err?.obj)).toContain('boom in reconfigure');
    expect(rt.status().peers.map((p) => p.address)).toEqual(['10.0.0.2']);
    await rt.stop();
  });

  it('the pure core checks originated prefixes before changing anything: a bad one leaves peers and routes as they were', async () => {
    const log = recLog();
    const core = new PureSpeakerCore(config({ originate: [{ prefix: '10.1.0.0/24', communities: [] }] }));
    const rt = new SpeakerRuntime({ config: config({ originate: [{ prefix: '10.1.0.0/24', communities: [] }] }), core, codec: wireCodec, log, transport });
    await rt.start();
    // no neighbors (would remove 10.0.0.2) and a prefix parsePrefix refuses (a zone ID)
    expect(rt.reload(config({ neighbors: [], originate: [{ prefix: 'fe80::1%eth0/64', communities: [] }] }))).toBe(false);
    expect(rt.status().peers.map((p) => p.address)).toEqual(['10.0.0.2']);
    expect(rt.status().locRib.total).toBe(1);
    // and a good reload after it still applies
    expect(rt.reload(config({ neighbors: [] }))).toBe(true);
    expect(rt.status().peers).toEqual([]);
    await rt.stop();
  });
});

describe('speaker core: connectRetry', () => {
  it('a neighbor\'s connectRetry (seconds) is the ConnectRetry duration the FSM asks for; 5 s when absent', () => {
    const n = config().neighbors[0]!;
    const core = new PureSpeakerCore(config({ neighbors: [{ ...n, passive: false, connectRetry: 120 }, { ...n, address: '10.0.0.3', passive: false }] }));
    const retry = core.start(0).flatMap((a) => (a.action.type === 'startTimer' && a.action.name === 'ConnectRetry' ? [[a.peer, a.action.ms]] : []));
    expect(retry).toEqual([['10.0.0.2', 120_000], ['10.0.0.3', 5_000]]);
  });
});

describe('speaker runtime reload: settings that need a restart', () => {
  it('a new asn, routerId, clusterId or restartTime is warned about by name, kept at its running value, and causes no actions', async () => {
    const log = recLog();
    const base = new PureSpeakerCore(config());
    const seen: { asn: number; routerId: string; restartTime: number; clusterId: string | undefined; actions: number }[] = [];
    const core: SpeakerCore = Object.assign(Object.create(base) as SpeakerCore, {
      reconfigure: (c: SpeakerConfig, now: number) => {
        const actions = base.reconfigure(c, now);
        seen.push({ asn: c.asn, routerId: c.routerId, restartTime: c.restartTime, clusterId: c.clusterId, actions: actions.length });
        return actions;
      },
    });
    const rt = new SpeakerRuntime({ config: config(), core, codec: wireCodec, log, transport });
    await rt.start();
    expect(rt.reload(config({ asn: 65009, routerId: '10.0.0.9', clusterId: '1.2.3.4', restartTime: 300 }))).toBe(true);
    const warned = log.lines.filter((l) => l.level === 'warn' && l.msg.includes('takes effect after a restart'));
    expect(warned.map((l) => (l.obj as { field: string }).field).sort()).toEqual(['asn', 'clusterId', 'restartTime', 'routerId']);
    expect(warned.find((l) => (l.obj as { field: string }).field === 'asn')?.obj).toMatchObject({ running: 65001, configured: 65009 });
    expect(seen).toEqual([{ asn: 65001, routerId: '10.0.0.1', restartTime: config().restartTime, clusterId: undefined, actions: 0 }]);
    // an unchanged file warns about nothing
    log.lines.length = 0;
    rt.reload(config());
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
    await rt.stop();
  });
});
