/** Helpers the speaker uses around the codec: Partial bit on propagation, End-of-RIB frames, KEEPALIVE. */
import { describe, expect, it } from 'vitest';
import {
  decodeMessage, encodeMessage, endOfRib, forPropagation, isEndOfRib, keepaliveFrame, checkHeader,
} from '../../../../bgp/wire/index.js';

describe('forPropagation (RFC 4271 §5, §9.1.4)', () => {
  it('passes unknown optional transitive attributes on with Partial set and drops non-transitive ones', () => {
    const a = forPropagation({
      origin: 'IGP',
      unknown: [{ code: 99, flags: 0xc0, hex: '01' }, { code: 100, flags: 0x80, hex: '02' }, { code: 101, flags: 0xe0, hex: '03' }],
    });
    expect(a).toEqual({ origin: 'IGP', unknown: [{ code: 99, flags: 0xe0, hex: '01' }, { code: 101, flags: 0xe0, hex: '03' }] });
    const wire = encodeMessage({ type: 'UPDATE', withdrawn: [], nlri: [], attributes: a });
    // ORIGIN, then attribute 99 with flags 0xe0 (optional, transitive, partial)
    expect(wire.subarray(23).toString('hex')).toBe('40010100' + 'e0630101' + 'e0650103');
  });
  it('leaves attributes without unknown ones alone, and drops an all-non-transitive list', () => {
    const plain = { origin: 'EGP' as const };
    expect(forPropagation(plain)).toBe(plain);
    expect(forPropagation({ origin: 'EGP', unknown: [{ code: 100, flags: 0x80, hex: '' }] })).toEqual({ origin: 'EGP' });
  });
});

describe('End-of-RIB and KEEPALIVE frames', () => {
  it('IPv4 End-of-RIB is the 23-octet empty UPDATE; IPv6 one carries an empty MP_UNREACH_NLRI', () => {
    expect(encodeMessage(endOfRib(1, 1)).toString('hex')).toBe(`${'ff'.repeat(16)}0017020000` + '0000');
    expect(encodeMessage(endOfRib(2, 1)).toString('hex')).toBe(`${'ff'.repeat(16)}001d020000` + '0006800f03000201');
    for (const [afi, safi] of [[1, 1], [2, 1]] as const) {
      const r = decodeMessage(encodeMessage(endOfRib(afi, safi)));
      expect(r.ok && isEndOfRib(r.message)).toEqual({ afi, safi });
    }
  });
  it('keepaliveFrame is a fresh 19-octet KEEPALIVE each time', () => {
    const a = keepaliveFrame();
    a[0] = 0;
    expect(keepaliveFrame().toString('hex')).toBe(`${'ff'.repeat(16)}001304`);
    expect(checkHeader(keepaliveFrame(), 19)).toBeUndefined();
  });
});
