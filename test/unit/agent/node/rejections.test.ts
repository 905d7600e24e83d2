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

  it('an edit whose last good version is kept stays a problem while the snapshot holds that version; a new valid version clears it', () => {
    const r = new Rejections();
    const kept = policy('x', 'deny');
    r.add({ source: 'a.yaml', object: 'NetworkPolicy x/deny (document 1)', errors: [{ path: 'spec', message: 'bad (last good version kept)' }], kept });
    const holding = (o: Resource): Snapshot => ({ revision: 1, objects: new Map([['NetworkPolicy', new Map([['x/deny', o]])]]) });
    r.fixedIn(holding(kept));
    expect(r.size).toBe(1);
    r.fixedIn(holding(policy('x', 'deny'))); // the same name, another (valid) object
    expect(r.size).toBe(0);
  });

  it('a file datastore rejection ("… (document N)") is fixed when the object is in a snapshot again, and superseded when its file is read again', () => {
    const r = new Rejections();
    r.add({ source: 'a.yaml', object: 'NetworkPolicy x/deny (document 2)', errors: [{ path: 'spec', message: 'bad' }] });
    r.add({ source: 'b.yaml', object: 'NetworkPolicy y/gone (document 1)', errors: [{ path: 'spec', message: 'bad' }] });
    r.fixedIn({ revision: 1, objects: new Map([['NetworkPolicy', new Map([['x/deny', policy('x', 'deny')]])]]) });
    expect(r.sentences()).toEqual(['b.yaml: NetworkPolicy y/gone (document 1) rejected: spec bad']);
    r.clearSource('a.yaml'); // another file: nothing
    expect(r.size).toBe(1);
    r.clearSource('b.yaml'); // the invalid object was removed from b.yaml (or b.yaml deleted)
    expect(r.size).toBe(0);
  });

  it('a deleted object\'s rejection is void (kubernetes: an object never valid, then deleted, is in no snapshot to clear it)', () => {
    const r = new Rejections();
    r.add({ source: 'kubernetes:nodes', object: 'Node n2', errors: [{ path: 'metadata.name', message: 'bad' }] });
    expect(r.holdsKind('Node')).toBe(true);
    r.deleted('kubernetes:ippools', 'Node n2'); // another source: nothing
    expect(r.size).toBe(1);
    r.deleted('kubernetes:nodes', 'Node n2');
    expect(r.holdsKind('Node')).toBe(false);
  });
});
