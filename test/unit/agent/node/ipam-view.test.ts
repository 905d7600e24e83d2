/**
 * IpamView: a block claimed here survives a list read before the claim and applied
 * after it (the change feed's race), until a list confirms it or a change names it
 * as deleted or reassigned; a block released here stays hidden from own() over stale
 * lists until a change names it gone, it is claimed again or the TTL passes.
 */
import { describe, expect, it } from 'vitest';
import type { IpamChange } from '../../../../agent/ipam/store.js';
import type { Block, Handle } from '../../../../agent/ipam/types.js';
import { IpamView, PENDING_CLAIM_TTL_MS } from '../../../../agent/node/ipam-view.js';

const block = (cidr: string, owner: string | null): Block => ({ cidr, pool: 'p', affinity: owner ? `host:${owner}` : null, allocations: [null, null, null, null], attributes: {} });
let v = 0;
const blocks = (bs: Block[], touched?: string[]): IpamChange => ({ kind: 'block', records: bs.map((value) => ({ value, version: String(++v) })), ...(touched ? { touched } : {}) });
const own = (view: IpamView): string[] => view.own().map((b) => b.cidr);

describe('IpamView', () => {
  it('tunnel addresses (VXLAN, IPIP) come from the handles; one appearing moves `own` (the routes pass reruns)', () => {
    const view = new IpamView('n1');
    view.apply([blocks([block('10.0.0.0/30', 'n1')])]);
    const tunnel = (handle: string, node: string, address: string): Handle => ({ handle, addresses: [{ family: 4, address, block: '10.0.0.0/30', pool: 'p' }], attrs: { node } });
    const handles = (hs: Handle[]): IpamChange => ({ kind: 'handle', records: hs.map((value) => ({ value, version: String(++v) })) });
    const vx = tunnel('vxlan-tunnel-addr-n1', 'n1', '10.0.0.1');
    expect(view.apply([handles([vx])]).own).toBe(true);
    expect(view.apply([handles([vx, tunnel('ipip-tunnel-addr-n1', 'n1', '10.0.0.2')])]).own).toBe(true);
    expect([...view.tunnels()]).toEqual([['n1', { vxlan: '10.0.0.1', ipip: '10.0.0.2' }]]);
    expect(view.apply([handles([vx, tunnel('ipip-tunnel-addr-n1', 'n1', '10.0.0.2')])]).own).toBe(false);
  });

  it('a stale list applied after a claim keeps the claimed block; a list that holds it ends the pending state', () => {
    const view = new IpamView('n1');
    view.apply([blocks([block('10.0.0.0/30', 'n1'), block('10.0.1.0/30', 'n2')])]);
    view.claimed(block('10.0.0.4/30', 'n1'));
    expect(own(view)).toEqual(['10.0.0.0/30', '10.0.0.4/30']);

    // read before the claim, applied after it
    const stale = view.apply([blocks([block('10.0.0.0/30', 'n1'), block('10.0.1.0/30', 'n2')])]);
    expect(own(view)).toEqual(['10.0.0.0/30', '10.0.0.4/30']);
    expect(stale.own).toBe(false);
    expect(view.blocks.map((b) => b.cidr)).toContain('10.0.1.0/30');
    expect(view.pendingClaims()).toEqual(['10.0.0.4/30']);
    // an old list showing the key's previous life (no affinity) does not take it away either
    view.apply([blocks([block('10.0.0.0/30', 'n1'), block('10.0.0.4/30', null)])]);
    expect(own(view)).toEqual(['10.0.0.0/30', '10.0.0.4/30']);

    view.apply([blocks([block('10.0.0.0/30', 'n1'), block('10.0.0.4/30', 'n1')])]);
    expect(view.pendingClaims()).toEqual([]);
    // confirmed: from now on the lists alone say (this one, newer, has it deleted)
    const gone = view.apply([blocks([block('10.0.0.0/30', 'n1')])]);
    expect(own(view)).toEqual(['10.0.0.0/30']);
    expect(gone.own).toBe(true);
  });

  it('a claim no list confirmed within the TTL is left to the lists (a lost delete event cannot pin it)', () => {
    let now = 1000;
    const view = new IpamView('n1', () => now);
    view.apply([blocks([])]);
    view.claimed(block('10.0.0.4/30', 'n1'));
    now += PENDING_CLAIM_TTL_MS - 1;
    view.apply([blocks([block('10.0.0.4/30', 'n2')])]); // no touched keys: cannot tell a stale list from a newer one
    expect(own(view)).toEqual(['10.0.0.4/30']);
    now += 2;
    view.apply([blocks([block('10.0.0.4/30', 'n2')])]);
    expect(own(view)).toEqual([]);
    expect(view.pendingClaims()).toEqual([]);
    expect(view.blocks.find((b) => b.cidr === '10.0.0.4/30')?.affinity).toBe('host:n2');
  });

  it('a change that names the claimed block as deleted after the claim removes it', () => {
    const view = new IpamView('n1');
    view.apply([blocks([])]);
    view.claimed(block('10.0.0.4/30', 'n1'));
    view.apply([blocks([], ['10.0.9.0/30'])]); // another key written: says nothing about ours
    expect(own(view)).toEqual(['10.0.0.4/30']);
    const r = view.apply([blocks([], ['10.0.0.4/30'])]);
    expect(own(view)).toEqual([]);
    expect(r.own).toBe(true);
    expect(view.pendingClaims()).toEqual([]);
  });

  it('a change that names the claimed block reassigned removes it from this node\'s blocks', () => {
    const view = new IpamView('n1');
    view.apply([blocks([])]);
    view.claimed(block('10.0.0.4/30', 'n1'));
    view.apply([blocks([block('10.0.0.4/30', 'n2')], ['10.0.0.4/30'])]);
    expect(own(view)).toEqual([]);
    expect(view.blocks.map((b) => [b.cidr, b.affinity])).toEqual([['10.0.0.4/30', 'host:n2']]);
  });

  it('a handle change leaves pending claims alone', () => {
    const view = new IpamView('n1');
    view.apply([blocks([])]);
    view.claimed(block('10.0.0.4/30', 'n1'));
    view.apply([{ kind: 'handle', records: [] }]);
    expect(own(view)).toEqual(['10.0.0.4/30']);
    expect(view.pendingClaims()).toEqual(['10.0.0.4/30']);
  });
});

describe('IpamView: blocks released here', () => {
  it('hides a released block over stale lists, stops once the feed names it gone', () => {
    const view = new IpamView('n1');
    const a = block('10.0.0.0/30', 'n1');
    const b = block('10.0.0.4/30', 'n1');
    view.apply([blocks([a, b])]);
    expect(own(view)).toEqual([a.cidr, b.cidr]);
    view.released(b.cidr);
    expect(own(view)).toEqual([a.cidr]);
    view.apply([blocks([a, b])]); // a list read before the release: still hidden
    expect(own(view)).toEqual([a.cidr]);
    view.apply([blocks([a])]); // a fresh list without it: a feed delivery from before the release may still follow
    expect(view.releasedPending()).toEqual([b.cidr]);
    view.apply([blocks([a, b])]); // ... like this one (kubernetes: the reflector has not seen the DELETE yet)
    expect(own(view)).toEqual([a.cidr]);
    view.apply([blocks([a, b], [b.cidr])]); // named, but the view still holds it: not settled
    expect(view.releasedPending()).toEqual([b.cidr]);
    view.apply([blocks([a], ['10.0.0.8/30'])]); // another key named: says nothing about b
    expect(view.releasedPending()).toEqual([b.cidr]);
    view.apply([blocks([a], [b.cidr])]); // the feed's delete: from now on the view alone says
    expect(view.releasedPending()).toEqual([]);
    view.apply([blocks([a, b])]);
    expect(own(view)).toEqual([a.cidr, b.cidr]);
  });

  it('stops hiding after the TTL (a lost event, a store without a feed)', () => {
    let now = 0;
    const view = new IpamView('n1', () => now);
    const b = block('10.0.0.4/30', 'n1');
    view.apply([blocks([b])]);
    view.released(b.cidr);
    now = PENDING_CLAIM_TTL_MS - 1;
    view.apply([blocks([b])]);
    expect(view.releasedPending()).toEqual([b.cidr]);
    expect(own(view)).toEqual([]);
    now = PENDING_CLAIM_TTL_MS + 1;
    const r = view.apply([blocks([b])]);
    expect(view.releasedPending()).toEqual([]);
    expect(own(view)).toEqual([b.cidr]);
    expect(r.own).toBe(true); // back among the own blocks: the route pass and BGP hear of it
  });

  it('a block claimed again is shown at once; a handle change ends no hiding', () => {
    const view = new IpamView('n1');
    const b = block('10.0.0.4/30', 'n1');
    view.apply([blocks([b])]);
    view.released(b.cidr);
    view.apply([{ kind: 'handle', records: [] }]);
    expect(own(view)).toEqual([]);
    view.claimed(b);
    expect(own(view)).toEqual([b.cidr]);
    expect(view.releasedPending()).toEqual([]);
  });
});
