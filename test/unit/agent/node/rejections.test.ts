/** Rejections: kept per source and object until a snapshot holds the object again (fixed). */
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../../agent/datastore/snapshot.js';
import type { Resource } from '../../../../agent/datastore/resources.js';
import { Rejections } from '../../../../agent/node/rejections.js';

const policy = (namespace: string, name: string): Resource => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name } }) as unknown as Resource;

describe('Rejections', () => {
  it('lists rejections as sentences and forgets those a snapshot holds again', () => {
    const r = new Rejections();
    r.add({ source: 'a.yaml', object: 'NetworkPolicy x/deny', errors: [{ path: '/spec/podSelector', message: 'is required' }] });
    r.add({ source: 'a.yaml', object: 'NetworkPolicy x/deny', errors: [{ path: '/spec/ingress', message: 'must be array' }] }); // same key: replaced
    r.add({ source: 'b.yaml', object: 'NetworkPolicy y/allow', errors: [{ path: '/spec', message: 'bad' }] });
    expect(r.size).toBe(2);
    expect(r.sentences()).toEqual(['a.yaml: NetworkPolicy x/deny rejected: /spec/ingress must be array', 'b.yaml: NetworkPolicy y/allow rejected: /spec bad']);
    const s: Snapshot = { revision: 1, objects: new Map([['NetworkPolicy', new Map([['x/deny', policy('x', 'deny')]])]]) };
    r.fixedIn(s);
    expect(r.size).toBe(1);
    expect(r.sentences()).toEqual(['b.yaml: NetworkPolicy y/allow rejected: /spec bad']);
  });

  it('says whether an object of a kind is outstanding (a rejected Node stops the deleted-node GC)', () => {
    const r = new Rejections();
    r.add({ source: 'b.yaml', object: 'NetworkPolicy y/Node', errors: [{ path: '/spec', message: 'bad' }] });
    expect(r.holdsKind('Node')).toBe(false);
    r.add({ source: 'nodes/n2.yaml', object: 'Node n2', errors: [{ path: 'metadata.name', message: 'bad' }] });
    expect(r.holdsKind('Node')).toBe(true);
    const n2 = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } } as unknown as Resource;
    r.fixedIn({ revision: 2, objects: new Map([['Node', new Map([['n2', n2]])]]) });
    expect(r.holdsKind('Node')).toBe(false);
  });
});
