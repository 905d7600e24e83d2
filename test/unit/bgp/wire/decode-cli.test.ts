/** `margay bgp decode`: the JSON fields issue 3 fixes, error objects, flags. Spawns the built CLI. */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { margay, MARGAY_JS } from '../../../support/cli.js';
import { encodeMessage, type Message } from '../../../../bgp/wire/index.js';
import { attr, frame, updateBody } from './helpers.js';

type Obj = Record<string, unknown>;

function decodeBytes(bytes: Buffer, args: string[] = []): { status: number | null; lines: Obj[]; stderr: string } {
  const r = spawnSync(process.execPath, [MARGAY_JS, 'bgp', 'decode', ...args], { input: bytes, timeout: 60_000 });
  const out = r.stdout.toString('utf8').trim();
  return { status: r.status, lines: out === '' ? [] : out.split('\n').map((l) => JSON.parse(l) as Obj), stderr: r.stderr.toString('utf8') };
}

const OPEN4: Message = {
  type: 'OPEN', version: 4, myAs: 23456, holdTime: 90, bgpId: '10.0.0.1',
  capabilities: [{ code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 65, name: 'FOUR_OCTET_AS', asn: 4200000001 }],
};
const OPEN2: Message = { type: 'OPEN', version: 4, myAs: 65002, holdTime: 90, bgpId: '10.0.0.2', capabilities: [{ code: 2, name: 'ROUTE_REFRESH' }] };

const FULL_UPDATE: Message = {
  type: 'UPDATE',
  withdrawn: [{ afi: 1, addr: '10.9.0.0', len: 16 }],
  attributes: {
    origin: 'EGP', asPath: [{ type: 'AS_SEQUENCE', asns: [4200000001, 65000] }, { type: 'AS_SET', asns: [1, 2] }],
    nextHop: '192.0.2.1', med: 5, localPref: 100, atomicAggregate: true, aggregator: { asn: 65000, address: '192.0.2.9' },
    communities: [0xfde80001, 0xffffff01, 0xffffff02, 0xffffff03], largeCommunities: [{ global: 4200000001, local1: 1, local2: 2 }],
    extendedCommunities: [{ type: 0, subtype: 2, hex: '0002fde800000064' }], originatorId: '10.0.0.9', clusterList: ['10.0.0.1'],
    mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ afi: 2, addr: '2001:db8:1::', len: 48 }] },
    mpUnreach: { afi: 2, safi: 1, withdrawn: [{ afi: 2, addr: '2001:db8:2::', len: 48 }] },
    unknown: [{ code: 99, flags: 0xc0, hex: 'abcd' }],
  },
  nlri: [{ afi: 1, addr: '10.1.0.0', len: 24 }],
};

describe('margay bgp decode', () => {
  beforeAll(() => {
    if (!existsSync(MARGAY_JS)) throw new Error(`build first (npx tsc -p tsconfig.json): ${MARGAY_JS} is missing`);
  });

  it('prints one JSON object per message with the fields issue 3 names', () => {
    const stream = Buffer.concat([
      encodeMessage(OPEN4), encodeMessage({ type: 'KEEPALIVE' }), encodeMessage(FULL_UPDATE),
      encodeMessage({ type: 'ROUTE-REFRESH', afi: 1, subtype: 1, safi: 1 }),
      encodeMessage({ type: 'NOTIFICATION', code: 6, subcode: 2, data: Buffer.from('\x04bye!', 'latin1') }),
    ]);
    const r = decodeBytes(stream);
    expect(r.status).toBe(0);
    expect(r.lines.map((l) => l.type)).toEqual(['OPEN', 'KEEPALIVE', 'UPDATE', 'ROUTE-REFRESH', 'NOTIFICATION']);
    const [open, ka, upd, rr, note] = r.lines as [Obj, Obj, Obj, Obj, Obj];
    expect(open).toMatchObject({ version: 4, asn: 4200000001, holdTime: 90, bgpId: '10.0.0.1' });
    expect(open.capabilities).toEqual([{ code: 1, name: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { code: 65, name: 'FOUR_OCTET_AS', asn: 4200000001 }]);
    expect(ka).toEqual({ type: 'KEEPALIVE', length: 19 });
    expect(upd.withdrawn).toEqual(['10.9.0.0/16']);
    expect(upd.nlri).toEqual(['10.1.0.0/24']);
    expect(upd.attributes).toEqual({
      origin: 'EGP', asPath: [{ type: 'AS_SEQUENCE', asns: [4200000001, 65000] }, { type: 'AS_SET', asns: [1, 2] }],
      nextHop: '192.0.2.1', med: 5, localPref: 100, atomicAggregate: true, aggregator: { asn: 65000, address: '192.0.2.9' },
      communities: ['65000:1', 'NO_EXPORT', 'NO_ADVERTISE', 'NO_EXPORT_SUBCONFED'], largeCommunities: ['4200000001:1:2'],
      extendedCommunities: ['rt:65000:100'], originatorId: '10.0.0.9', clusterList: ['10.0.0.1'],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: ['2001:db8:1::/48'] },
      mpUnreach: { afi: 2, safi: 1, withdrawn: ['2001:db8:2::/48'] },
      unknown: [{ code: 99, flags: 0xc0, hex: 'abcd' }],
    });
    expect(upd.length).toBe(encodeMessage(FULL_UPDATE).length);
    expect(rr).toEqual({ type: 'ROUTE-REFRESH', length: 23, afi: 1, safi: 1, subtype: 1 });
    expect(note).toMatchObject({ type: 'NOTIFICATION', code: 6, subcode: 2, name: 'Cease / Administrative Shutdown', dataHex: '0462796521', shutdownMessage: 'bye!' });
  });

  it('--as4 auto takes the AS_PATH width from the OPEN earlier in the stream; AS4_PATH shows as as4Path', () => {
    const upd2 = frame(2, updateBody('', attr(0x40, 1, '00') + attr(0x40, 2, '02 02 fde8 5ba0') + attr(0x40, 3, '0a000001')
      + attr(0xc0, 17, '02 02 0000fde8 fa56ea01'), '18 0a0100'));
    const auto = decodeBytes(Buffer.concat([encodeMessage(OPEN2), upd2]));
    expect(auto.status).toBe(0);
    expect((auto.lines[1]!.attributes as Obj).asPath).toEqual([{ type: 'AS_SEQUENCE', asns: [65000, 23456] }]);
    expect((auto.lines[1]!.attributes as Obj).as4Path).toEqual([{ type: 'AS_SEQUENCE', asns: [65000, 4200000001] }]);
    // forced 4-octet: the same bytes are a malformed AS_PATH (treat-as-withdraw)
    const yes = decodeBytes(Buffer.concat([encodeMessage(OPEN2), upd2]), ['--as4', 'yes']);
    expect(yes.status).toBe(1);
    expect(yes.lines[1]).toMatchObject({ type: 'UPDATE', error: { code: 3, subcode: 11, action: 'treat-as-withdraw' }, withdrawn: ['10.1.0.0/24'] });
    const no = decodeBytes(upd2, ['--as4', 'no']);
    expect((no.lines[0]!.attributes as Obj).asPath).toEqual([{ type: 'AS_SEQUENCE', asns: [65000, 23456] }]);
  });

  it('--add-path prints prefixes as {prefix, pathId}', () => {
    const b = frame(2, updateBody('00000009 18 0a0009', attr(0x40, 1, '00') + attr(0x40, 2, '') + attr(0x40, 3, '0a000001'), '00000001 18 0a0001'));
    const r = decodeBytes(b, ['--add-path', 'ipv4,ipv6']);
    expect(r.lines[0]).toMatchObject({ withdrawn: [{ prefix: '10.0.9.0/24', pathId: 9 }], nlri: [{ prefix: '10.0.1.0/24', pathId: 1 }] });
    expect(decodeBytes(b).lines[0]).toHaveProperty('error');
  });

  it('malformed messages print error objects and decoding goes on; framing errors resynchronise', () => {
    const ka = encodeMessage({ type: 'KEEPALIVE' });
    const badType = frame(9, '');
    const garbage = Buffer.from('00112233', 'hex');
    const truncated = ka.subarray(0, 10);
    const r = decodeBytes(Buffer.concat([ka, badType, garbage, ka, frame(5, '0001 00 01 00'), ka, truncated]));
    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(7);
    expect(r.lines[0]).toEqual({ type: 'KEEPALIVE', length: 19 });
    expect(r.lines[1]).toMatchObject({ length: 19, offset: 19, error: { code: 1, subcode: 3, name: 'Message Header Error / Bad Message Type', dataHex: '09', action: 'session-reset' } });
    expect(r.lines[2]).toMatchObject({ offset: 38, error: { code: 1, subcode: 1 } });
    expect(r.lines[3]).toEqual({ type: 'KEEPALIVE', length: 19 });
    expect(r.lines[4]).toMatchObject({ type: 'ROUTE-REFRESH', error: { code: 7, subcode: 1 } });
    expect(r.lines[5]).toEqual({ type: 'KEEPALIVE', length: 19 });
    expect(r.lines[6]).toMatchObject({ error: { message: expect.stringContaining('input ends inside a message') } });
  });

  it('reads a FILE argument; a missing file exits 1; bad flags are usage errors (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'margay-decode-'));
    const f = join(dir, 'ka.bgp');
    writeFileSync(f, encodeMessage({ type: 'KEEPALIVE' }));
    const ok = margay(['bgp', 'decode', f]);
    expect([ok.status, ok.stdout.trim()]).toEqual([0, '{"type":"KEEPALIVE","length":19}']);
    expect(margay(['bgp', 'decode', join(dir, 'nope')]).status).toBe(1);
    const bad = margay(['bgp', 'decode', '--as4', 'maybe']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--as4 must be one of auto, yes, no');
    expect(margay(['bgp', 'decode', '--add-path', 'ipx']).status).toBe(2);
    const help = margay(['bgp', 'decode', '--help']);
    expect(help.stdout).toContain('usage: margay bgp decode [FILE|-] [--as4 auto|yes|no] [--add-path FAMILIES]');
  });
});
