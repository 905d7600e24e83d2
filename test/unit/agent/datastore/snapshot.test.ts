import { describe, expect, it } from 'vitest';
import { ObjectCache, objectsOf } from '../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../agent/datastore/resources.js';

const ns = (name: string, labels: Record<string, string> = {}): Resource => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

describe('ObjectCache', () => {
  it('keeps earlier snapshots unchanged when the cache moves on', () => {
    const c = new ObjectCache();
    c.set(ns('a'));
    const s1 = c.snapshot();
    c.set(ns('b'));
    const s2 = c.snapshot();
    expect(objectsOf(s1, 'Namespace').map((o) => o.metadata.name)).toEqual(['a']);
    expect(objectsOf(s2, 'Namespace').map((o) => o.metadata.name)).toEqual(['a', 'b']);
    expect(s2.revision).toBeGreaterThan(s1.revision);
  });

  it('does not bump the revision when nothing changed', () => {
    const c = new ObjectCache();
    const a = ns('a');
    c.set(a);
    const s1 = c.snapshot();
    expect(c.set(a)).toBe(false);
    expect(c.replaceKind('Namespace', [a])).toBe(false);
    expect(c.snapshot().revision).toBe(s1.revision);
  });

  it('replaceKind removes objects missing from a re-list', () => {
    const c = new ObjectCache();
    c.set(ns('a'));
    c.set(ns('b'));
    expect(c.replaceKind('Namespace', [ns('b')])).toBe(true);
    expect(objectsOf(c.snapshot(), 'Namespace').map((o) => o.metadata.name)).toEqual(['b']);
  });

  it('shares unchanged kinds between snapshots', () => {
    const c = new ObjectCache();
    c.set(ns('a'));
    const s1 = c.snapshot();
    c.set({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    const s2 = c.snapshot();
    expect(s2.objects.get('Namespace')).toBe(s1.objects.get('Namespace'));
    expect(s2.objects.get('Node')).not.toBe(s1.objects.get('Node'));
  });
});
