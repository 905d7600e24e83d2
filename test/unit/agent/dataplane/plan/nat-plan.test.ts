import { describe, expect, it } from 'vitest';
import { planNatOutgoing, renderNatRestore } from '../../../../../agent/dataplane/plan/nat-plan.js';
import type { PoolSpec } from '../../../../../agent/dataplane/plan/types.js';

const pool = (cidr: string, natOutgoing: boolean, disabled = false): PoolSpec => ({ cidr, natOutgoing, disabled, ipipMode: 'Never', vxlanMode: 'Never' });

describe('natOutgoing rules', () => {
  it('returns for every pool, then masquerades the natOutgoing pools only', () => {
    const n = planNatOutgoing([pool('10.244.0.0/16', true), pool('10.96.0.0/12', false), pool('fd44::/48', true)], 4);
    expect(renderNatRestore(n)).toBe([
      '*nat',
      ':MARGAY-NAT-OUTGOING - [0:0]',
      '-A MARGAY-NAT-OUTGOING -d 10.244.0.0/16 -j RETURN',
      '-A MARGAY-NAT-OUTGOING -d 10.96.0.0/12 -j RETURN',
      '-A MARGAY-NAT-OUTGOING -s 10.244.0.0/16 -j MASQUERADE',
      'COMMIT',
      '',
    ].join('\n'));
    expect(planNatOutgoing([pool('fd44::/48', true)], 6).rules).toEqual([['-d', 'fd44::/48', '-j', 'RETURN'], ['-s', 'fd44::/48', '-j', 'MASQUERADE']]);
  });
  it('has no rules (chain and jump removed) when no pool of the family wants NAT', () => {
    expect(planNatOutgoing([pool('10.244.0.0/16', false)], 4).rules).toEqual([]);
    expect(planNatOutgoing([pool('10.244.0.0/16', false, true)], 4).rules).toEqual([]);
    expect(planNatOutgoing([pool('10.244.0.0/16', true)], 6).rules).toEqual([]);
  });
  it('still masquerades a disabled natOutgoing pool (its pods keep running, as in Calico\'s felix), next to the pool that replaces it', () => {
    const n = planNatOutgoing([pool('10.244.0.0/16', true, true), pool('172.16.0.0/16', true)], 4);
    expect(n.rules).toEqual([
      ['-d', '10.244.0.0/16', '-j', 'RETURN'], ['-d', '172.16.0.0/16', '-j', 'RETURN'],
      ['-s', '10.244.0.0/16', '-j', 'MASQUERADE'], ['-s', '172.16.0.0/16', '-j', 'MASQUERADE'],
    ]);
    expect(planNatOutgoing([pool('fd44::/48', true, true)], 6).rules).toEqual([['-d', 'fd44::/48', '-j', 'RETURN'], ['-s', 'fd44::/48', '-j', 'MASQUERADE']]);
  });
});
