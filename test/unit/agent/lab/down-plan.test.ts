import { describe, expect, it } from 'vitest';
import { deletionOrder, pickLatestCliLab, unrecordedNamespaces } from '../../../../agent/lab/down-plan.js';
import type { LabState } from '../../../../agent/lab/state.js';

function state(prefix: string, origin: 'cli' | 'api', createdAt: string, namespaces: string[] = []): LabState {
  return { version: 1, prefix, fabric: 'l2', origin, createdAt, owner: { pid: 1, startTime: '' }, namespaces, processes: [], nodes: [], pods: [] };
}

describe('which labs lab down removes', () => {
  it('plain down picks the newest lab a person started, never a test\'s', () => {
    const states = [
      state('mga-', 'cli', '2026-01-01T10:00:00.000Z'),
      state('mgb-', 'cli', '2026-01-01T11:00:00.000Z'),
      state('mgc-', 'api', '2026-01-01T12:00:00.000Z'),
    ];
    expect(pickLatestCliLab(states)?.prefix).toBe('mgb-');
    expect(pickLatestCliLab([states[2]!])).toBeUndefined();
    expect(pickLatestCliLab([])).toBeUndefined();
  });

  it('--all finds margay namespaces that no state file records', () => {
    const states = [state('mga-', 'api', 'x', ['mga-fabric', 'mga-n1'])];
    const existing = ['mga-n1', 'mgzz-n1', 'other', 'mga-fabric', 'mgyy-fabric'];
    expect(unrecordedNamespaces(existing, states, (ns) => ns.startsWith('mg'))).toEqual(['mgyy-fabric', 'mgzz-n1']);
  });

  it('deletes pods before nodes before the fabric (reverse creation), each once', () => {
    expect(deletionOrder({ namespaces: ['f', 'n1', 'n2', 'n1-p', 'n1'] })).toEqual(['n1-p', 'n2', 'n1', 'f']);
  });
});
