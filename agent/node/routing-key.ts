/**
 * Whether what the routes pass and the BGP plan read changed (pure): the Node,
 * IPPool, BGPPeer and BGPConfiguration objects — of a Node only what routing reads
 * (name, labels, annotations, spec, status.addresses), not the kubelet's heartbeats
 * and conditions, which change every few seconds per node and would re-plan routing
 * on every node of a large cluster.
 *
 * `changed` first compares the kinds' maps by identity (a snapshot keeps an unchanged
 * kind's map: a pod or policy event costs nothing here), then a key of those fields.
 */
import type { Resource } from '../datastore/resources.js';
import type { Snapshot } from '../datastore/snapshot.js';

const ROUTING_KINDS = ['Node', 'IPPool', 'BGPPeer', 'BGPConfiguration'] as const;

function routingView(kind: string, o: Resource): unknown {
  if (kind !== 'Node') return o;
  const status = (o as { status?: { addresses?: unknown } }).status;
  const { name, labels, annotations } = o.metadata as { name: string; labels?: unknown; annotations?: unknown };
  return [name, labels ?? null, annotations ?? null, (o as { spec?: unknown }).spec ?? null, status?.addresses ?? null];
}

export class RoutingInputs {
  private maps: unknown[] = [];
  private key = '';

  /** True when the routing inputs of `s` differ from the last snapshot's (the first one always). */
  changed(s: Snapshot): boolean {
    const maps = ROUTING_KINDS.map((k) => s.objects.get(k));
    if (this.maps.length > 0 && maps.every((m, i) => m === this.maps[i])) return false;
    this.maps = maps;
    const key = JSON.stringify(ROUTING_KINDS.map((k) => [...(s.objects.get(k)?.values() ?? [])].map((o) => routingView(k, o))));
    if (key === this.key) return false;
    this.key = key;
    return true;
  }
}
