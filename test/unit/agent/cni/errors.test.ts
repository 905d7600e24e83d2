import { describe, expect, it } from 'vitest';
import { CNI_ERRORS, CniError, codeName } from '../../../../agent/cni/errors.js';
import { hostIfName, handleId } from '../../../../agent/cni/names.js';

describe('CNI error catalogue', () => {
  it('holds the spec\'s well-known codes with their spec numbers', () => {
    expect(CNI_ERRORS).toMatchObject({
      INCOMPATIBLE_VERSION: 1, UNSUPPORTED_FIELD: 2, UNKNOWN_CONTAINER: 3, INVALID_ENV: 4,
      IO_FAILURE: 5, DECODE_FAILURE: 6, INVALID_CONFIG: 7, TRY_AGAIN_LATER: 11,
    });
  });
  it('has unique codes, margay\'s own at 100 and above', () => {
    const codes = Object.values(CNI_ERRORS);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, code] of Object.entries(CNI_ERRORS)) {
      expect(codeName(code)).toBe(name);
      if (code > 11) expect(code).toBeGreaterThanOrEqual(100);
    }
  });
  it('prints the spec\'s JSON error shape', () => {
    expect(new CniError('TRY_AGAIN_LATER', 'agent down', 'ENOENT').toJson('0.4.0')).toEqual({ cniVersion: '0.4.0', code: 11, msg: 'agent down', details: 'ENOENT' });
  });
});

describe('names', () => {
  it('derives a stable mgw-prefixed host interface name of at most 15 characters', () => {
    const a = hostIfName('4f1c0d2e9a7b');
    expect(a).toMatch(/^mgw[0-9a-f]{11}$/);
    expect(a.length).toBeLessThanOrEqual(15);
    expect(hostIfName('4f1c0d2e9a7b')).toBe(a);
    expect(hostIfName('4f1c0d2e9a7c')).not.toBe(a);
    expect(hostIfName('4f1c0d2e9a7b', 'net1')).not.toBe(a);
    expect(handleId('k8s-pod-network', 'c1', 'eth0')).toBe('k8s-pod-network.c1.eth0');
  });
});
