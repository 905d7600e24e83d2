import type { Path, PeerInfo, RouteAttrs } from '../../../../bgp/rib/path.js';
import { attrsKey } from '../../../../bgp/rib/path.js';

export function peer(over: Partial<PeerInfo> = {}): PeerInfo {
  return { id: over.address ?? '192.0.2.1', address: '192.0.2.1', asn: 65001, routerId: '1.1.1.1', ibgp: false, rrClient: false, local: false, ...over };
}

export function attrs(over: Partial<RouteAttrs> = {}): RouteAttrs {
  return { origin: 'IGP', asPath: [{ type: 'AS_SEQUENCE', asns: [65001] }], nextHops: ['192.0.2.1'], ...over };
}

export function path(src: Partial<PeerInfo> = {}, a: Partial<RouteAttrs> = {}): Path {
  const at = attrs(a);
  return { source: peer(src), attrs: at, stale: false, key: attrsKey(at), refs: 0 };
}
