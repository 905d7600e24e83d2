import { describe, expect, it } from 'vitest';
import { WarmPair } from '../../../../bgp/speaker/warm-pair.js';

describe('WarmPair', () => {
  it('establishes in memory and carries each round to the other end (announce + withdraw)', () => {
    const w = new WarmPair({ asn: 64512, families: ['ipv4', 'ipv6'] });
    expect(w.established).toBe(true);
    const before = w.changes;
    w.round(['192.0.2.128/26', '2001:db8:1::/64']);
    expect(w.changes - before).toBe(4);
    for (let i = 0; i < 50; i++) w.round(['192.0.2.128/26']);
    expect(w.changes - before).toBe(4 + 100);
  });

  it('receives IPv4 as a session does: prefixes keyed by numbers (the change\'s text made when read)', () => {
    const w = new WarmPair({ asn: 64512, families: ['ipv4'] });
    w.round(['192.0.2.64/26']);
    const last = w.last as object;
    // a numerically keyed change has no text of its own until asked (a getter); a text-keyed one carries it
    expect(Object.getOwnPropertyDescriptor(last, 'prefix')).toBeUndefined();
    expect((last as { prefix: string }).prefix).toBe('192.0.2.64/26');
  });

  it('works without graceful restart and with one family', () => {
    const w = new WarmPair({ asn: 4200000001, families: ['ipv4'], gracefulRestart: false });
    expect(w.established).toBe(true);
    w.round(['198.51.100.0/24']);
    expect(w.changes).toBe(2);
  });
});
