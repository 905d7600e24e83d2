/** dumpStream's recovery after framing errors and its error objects; ADD_PATH Send/Receive outside 1..3; NOTIFICATION names. */
import { describe, expect, it } from 'vitest';
import { dumpStream } from '../../../../bgp/wire/dump.js';
import { decodeMessage, encodeMessage, findMarker, notificationName } from '../../../../bgp/wire/index.js';
import { checkOpen } from '../../../../bgp/fsm/open.js';
import type { FsmConfig } from '../../../../bgp/fsm/types.js';
import { cap, frame, openBody } from './helpers.js';

const OPTS = { as4: 'auto', addPath: new Set<string>() } as const;
const dump = (b: Buffer) => [...dumpStream(b, OPTS)];
const KA = encodeMessage({ type: 'KEEPALIVE' });

describe('dumpStream recovery', () => {
  it('a KEEPALIVE with length 0xffff then 3 KEEPALIVEs: 1 error, 3 KEEPALIVEs (no fake frame from the bad header)', () => {
    const bad = Buffer.from(KA);
    bad.writeUInt16BE(0xffff, 16);
    const out = dump(Buffer.concat([bad, KA, KA, KA]));
    expect(out).toHaveLength(4);
    expect(out[0]).toMatchObject({ offset: 0, length: 0xffff, error: { code: 1, subcode: 2 } });
    expect(out.slice(1)).toEqual([1, 2, 3].map(() => ({ type: 'KEEPALIVE', length: 19 })));
  });

  it('findMarker skips a run of ones whose length or type is not a message header', () => {
    // 4 octets of ones then a real KEEPALIVE: offsets 0..3 give lengths 0xffff/0xff00 or type 0xff; only 4 is a header
    expect(findMarker(Buffer.concat([Buffer.alloc(4, 0xff), KA]), 0)).toBe(4);
    const badType = Buffer.from(KA);
    badType[18] = 9;
    expect(findMarker(Buffer.concat([badType, KA]), 0)).toBe(19);
    const badLen = Buffer.from(KA);
    badLen.writeUInt16BE(5000, 16);
    expect(findMarker(Buffer.concat([badLen, KA]), 0)).toBe(19);
    expect(findMarker(KA, 0)).toBe(0);
  });

  it('a bad marker error has no length; a truncated last message with a whole header has its type and length', () => {
    const out = dump(Buffer.concat([Buffer.from('00112233', 'hex'), KA]));
    expect(out[0]).toEqual({ offset: 0, error: expect.objectContaining({ code: 1, subcode: 1 }) });
    expect(out[1]).toEqual({ type: 'KEEPALIVE', length: 19 });
    const upd = frame(2, '0000 0000');
    const t = dump(Buffer.concat([KA, upd.subarray(0, 20)]));
    expect(t[1]).toMatchObject({ type: 'UPDATE', length: 23, offset: 19, error: { message: expect.stringContaining('20 of 23') } });
    const short = dump(Buffer.concat([KA, upd.subarray(0, 10)]));
    expect(short[1]).not.toHaveProperty('type');
    expect(short[1]).not.toHaveProperty('length');
  });
});

describe('ADD_PATH capability', () => {
  it('a family entry with Send/Receive outside 1..3 is ignored (RFC 7911 §4); the OPEN decodes', () => {
    const b = frame(1, openBody('04 fde8 00b4 c0000201', [cap(69, '0001 01 00 0002 01 03'), cap(2, '')]));
    const r = decodeMessage(b);
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.type !== 'OPEN') throw new Error('not an OPEN');
    const ap = r.message.capabilities.find((c) => c.name === 'ADD_PATH');
    expect(ap).toEqual({ code: 69, name: 'ADD_PATH', families: [{ afi: 2, safi: 1, sendReceive: 3 }] });
    expect(r.message.capabilities.some((c) => c.name === 'ROUTE_REFRESH')).toBe(true);
  });

  it('the speaker accepts such an OPEN (no NOTIFICATION 2/0) and negotiates ADD-PATH only for the valid family', () => {
    const b = frame(1, openBody('04 fde9 005a 0a000002', [ // AS 65001, hold 90, id 10.0.0.2
      cap(1, '0001 00 01'), cap(1, '0002 00 01'), cap(65, '0000fde9'), cap(69, '0001 01 00 0002 01 03'),
    ]));
    const r = decodeMessage(b);
    if (!r.ok || r.message.type !== 'OPEN') throw new Error('OPEN rejected');
    const cfg: FsmConfig = {
      localAs: 65000, routerId: '10.0.0.1', peerAs: 65001, holdTime: 90, connectRetryTime: 5,
      idleHoldTime: 3, passive: false, families: ['ipv4', 'ipv6'], addPathReceive: ['ipv4', 'ipv6'],
    };
    const v = checkOpen(cfg, r.message);
    expect(v.ok && [...v.negotiated.codecIn.addPath]).toEqual(['2/1']);
  });
});

describe('NOTIFICATION names', () => {
  it('code 8 is Send Hold Timer Expired (RFC 9687)', () => {
    expect(notificationName(8, 0)).toBe('Send Hold Timer Expired / Unspecific');
  });
});
