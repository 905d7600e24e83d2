/**
 * Building our OPEN and judging the peer's (RFC 4271 §6.2, RFC 5492, RFC 6793,
 * RFC 4724, RFC 7911, RFC 8950): `checkOpen` returns either the NOTIFICATION the
 * RFCs mandate (code, subcode, data) or the negotiated facts, including the
 * CodecOptions the codec needs for each direction.
 */
import { AS_TRANS, type Capability, type NotificationMessage, type OpenMessage } from '../wire/types.js';
import { ipv4ToNumber } from './collision.js';
import { afiFamily, type Family, familyAfi, type FsmConfig, type Negotiated } from './types.js';

/** Hold time in OpenSent before the peer's OPEN arrives (RFC 4271 §8.2.2: "large", 4 minutes). */
export const OPEN_SENT_HOLD_MS = 240_000;

export function buildOpen(c: FsmConfig): OpenMessage {
  const caps: Capability[] = [];
  for (const f of c.families) caps.push({ code: 1, name: 'MULTIPROTOCOL', afi: familyAfi(f), safi: 1 });
  caps.push({ code: 2, name: 'ROUTE_REFRESH' });
  if (c.extendedNextHop) caps.push({ code: 5, name: 'EXTENDED_NEXT_HOP', tuples: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
  if (c.gracefulRestart) {
    const gr = c.gracefulRestart;
    caps.push({
      code: 64, name: 'GRACEFUL_RESTART', restarted: gr.restarting, notification: false,
      restartTime: Math.min(4095, gr.restartTime),
      families: c.families.map((f) => ({ afi: familyAfi(f), safi: 1, forwardingPreserved: gr.forwardingPreserved })),
    });
  }
  caps.push({ code: 65, name: 'FOUR_OCTET_AS', asn: c.localAs });
  if (c.addPathReceive && c.addPathReceive.length > 0) {
    caps.push({ code: 69, name: 'ADD_PATH', families: c.addPathReceive.map((f) => ({ afi: familyAfi(f), safi: 1, sendReceive: 1 as const })) });
  }
  return {
    type: 'OPEN', version: 4, myAs: c.localAs > 0xffff ? AS_TRANS : c.localAs,
    holdTime: c.holdTime, bgpId: c.routerId, capabilities: caps,
  };
}

export type OpenVerdict =
  | { ok: true; negotiated: Negotiated }
  | { ok: false; notification: NotificationMessage; detail: string };

function fail(subcode: number, detail: string, data: Uint8Array = new Uint8Array(0)): OpenVerdict {
  return { ok: false, notification: { type: 'NOTIFICATION', code: 2, subcode, data }, detail };
}

/** The peer's ASN: the 4-octet capability's when present (RFC 6793 §4.2.2), else My AS. */
export function peerAsOf(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.code === 65 && c.name === 'FOUR_OCTET_AS') return c.asn;
  return open.myAs;
}

function u16Bytes(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

function u32Bytes(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function mpCapBytes(fams: readonly Family[]): Uint8Array {
  const out = new Uint8Array(fams.length * 6);
  fams.forEach((f, i) => out.set([1, 4, 0, familyAfi(f), 0, 1], i * 6));
  return out;
}

export function checkOpen(c: FsmConfig, open: OpenMessage): OpenVerdict {
  // §6.2: version first; data = the largest locally supported version (2 octets).
  if (open.version !== 4) return fail(1, `version ${open.version}`, new Uint8Array([0, 4]));
  const peerAs = peerAsOf(open);
  const has4 = open.capabilities.some((x) => x.code === 65);
  // RFC 7607 §2: AS 0 (as My AS or in the 4-octet capability) is Bad Peer AS whatever is configured
  if (peerAs === 0 || open.myAs === 0 || peerAs !== c.peerAs || (!has4 && open.myAs === AS_TRANS && c.peerAs !== AS_TRANS)) {
    // §6.2 asks for no data; like BIRD we send the AS received: the 4-octet
    // capability's (4 octets) when present, else the OPEN's My AS field (2 octets)
    return fail(2, `peer AS ${peerAs}, expected ${c.peerAs}`, has4 ? u32Bytes(peerAs) : u16Bytes(open.myAs));
  }
  const id = ipv4ToNumber(open.bgpId);
  const ibgp = peerAs === c.localAs;
  if (!(id > 0) || (ibgp && open.bgpId === c.routerId)) return fail(3, `BGP identifier ${open.bgpId}`);
  if (open.holdTime === 1 || open.holdTime === 2) return fail(6, `hold time ${open.holdTime}`);

  const caps = open.capabilities;
  const mp = caps.flatMap((x) => (x.code === 1 && x.name === 'MULTIPROTOCOL' ? [afiFamily(x.afi, x.safi)] : []));
  // RFC 4760: a peer advertising no multiprotocol capability speaks IPv4 unicast only.
  const theirFams = caps.some((x) => x.code === 1) ? mp : ['ipv4' as Family];
  const families = c.families.filter((f) => theirFams.includes(f));
  if (families.length === 0) return fail(7, 'no address family in common', mpCapBytes(c.families));

  const holdTime = Math.min(c.holdTime, open.holdTime);
  const keepaliveTime = holdTime === 0 ? 0 : Math.max(1, Math.min(c.keepaliveTime ?? holdTime, Math.floor(holdTime / 3)));

  let addPathSend: Family[] = [];
  let addPathReceive: Family[] = [];
  let ext = false;
  let gracefulRestart: Negotiated['gracefulRestart'];
  for (const cap of caps) {
    if (cap.code === 69 && cap.name === 'ADD_PATH') {
      for (const t of cap.families) {
        const f = afiFamily(t.afi, t.safi);
        if (!f || !families.includes(f)) continue;
        // we only offer "receive" (1): usable when the peer can send (2 or 3)
        if ((t.sendReceive & 2) && c.addPathReceive?.includes(f)) addPathReceive.push(f);
      }
    } else if (cap.code === 5 && cap.name === 'EXTENDED_NEXT_HOP') {
      ext = !!c.extendedNextHop && cap.tuples.some((t) => t.afi === 1 && t.safi === 1 && t.nextHopAfi === 2);
    } else if (cap.code === 64 && cap.name === 'GRACEFUL_RESTART' && c.gracefulRestart) {
      const fams = cap.families.flatMap((t) => { const f = afiFamily(t.afi, t.safi); return f ? [{ f, p: t.forwardingPreserved }] : []; });
      gracefulRestart = {
        restartTime: cap.restartTime, restarted: cap.restarted, notification: cap.notification,
        families: fams.map((x) => x.f), preserved: fams.filter((x) => x.p).map((x) => x.f),
      };
    }
  }
  addPathReceive = [...new Set(addPathReceive)];
  addPathSend = [];
  const as4 = has4;
  const key = (f: Family): string => `${familyAfi(f)}/1`;
  return {
    ok: true,
    negotiated: {
      peerAs, peerId: open.bgpId, holdTime, keepaliveTime, as4, families,
      routeRefresh: caps.some((x) => x.code === 2),
      enhancedRouteRefresh: false, // RFC 7313 is not offered by margay, so never negotiated
      extendedNextHop: ext, addPathReceive, addPathSend, gracefulRestart,
      codecIn: { as4, addPath: new Set(addPathReceive.map(key)), ibgp },
      codecOut: { as4, addPath: new Set(addPathSend.map(key)) },
    },
  };
}
