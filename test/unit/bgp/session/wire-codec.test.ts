import { describe, expect, it } from 'vitest';
import { wireCodec } from '../../../../bgp/session/wire-codec.js';
import { DEFAULT_CODEC_OPTIONS } from '../../../../bgp/wire/types.js';

/** An UPDATE frame: 16×0xff marker, length, type 2, then the body. */
function update(withdrawn: number[], attrs: number[], nlri: number[]): Buffer {
  const body = [(withdrawn.length >> 8) & 0xff, withdrawn.length & 0xff, ...withdrawn, (attrs.length >> 8) & 0xff, attrs.length & 0xff, ...attrs, ...nlri];
  const len = 19 + body.length;
  return Buffer.from([...Array(16).fill(0xff), len >> 8, len & 0xff, 2, ...body]);
}

// ORIGIN with the undefined value 5 (RFC 7606 §7.1: treat-as-withdraw), AS_PATH empty, NEXT_HOP 192.0.2.1
const BAD_ORIGIN = [0x40, 1, 1, 5, 0x40, 2, 0, 0x40, 3, 4, 192, 0, 2, 1];

describe('the driver codec and RFC 7606 treat-as-withdraw', () => {
  it('delivers the UPDATE as withdrawals of its prefixes', () => {
    const r = wireCodec.decode(update([], BAD_ORIGIN, [24, 10, 244, 1]), DEFAULT_CODEC_OPTIONS);
    expect('message' in r && r.message?.type).toBe('UPDATE');
    if (!('message' in r) || !r.message || r.message.type !== 'UPDATE') throw new Error('no UPDATE');
    expect(r.message.nlri).toEqual([]);
    expect(r.message.withdrawn.map((p) => `${p.addr}/${p.len}`)).toEqual(['10.244.1.0/24']);
    expect(r.warning).toMatch(/treat-as-withdraw/);
  });

  it('resets the session when the malformed UPDATE has an MP_REACH_NLRI without prefixes (RFC 7606 §5.2: no reachable NLRI)', () => {
    // MP_REACH_NLRI (IPv6, next hop 2001:db8::1) with no prefix: it encodes no reachable NLRI
    const emptyMpReach = [0x80, 14, 21, 0, 2, 1, 16, 0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1, 0];
    const r = wireCodec.decode(update([], [...emptyMpReach, ...BAD_ORIGIN], []), DEFAULT_CODEC_OPTIONS);
    expect('error' in r && r.error ? [r.error.code, r.error.subcode] : undefined).toEqual([3, 6]);
    expect('message' in r ? r.message : undefined).toBeUndefined();
  });

  it('resets the session when the malformed UPDATE has no reachable NLRI (RFC 7606 §5.2)', () => {
    const r = wireCodec.decode(update([], BAD_ORIGIN, []), DEFAULT_CODEC_OPTIONS);
    expect('error' in r && r.error ? [r.error.code, r.error.subcode] : undefined).toEqual([3, 6]);
    expect('message' in r ? r.message : undefined).toBeUndefined();
  });

  it('still delivers a real End-of-RIB (an empty, well-formed UPDATE)', () => {
    const r = wireCodec.decode(update([], [], []), DEFAULT_CODEC_OPTIONS);
    expect('message' in r && r.message?.type).toBe('UPDATE');
  });
});
