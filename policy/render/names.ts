/**
 * Deterministic, length-safe names derived only from an object's identity:
 * chains ≤ 28 characters (iptables' limit), ipsets ≤ 31. A policy's chain keeps its
 * name when the policy's content changes, so an edit rewrites that chain in place.
 */
import { createHash } from 'node:crypto';
import type { Direction } from '../model/types.js';

export type IpFamily = 4 | 6;

/** Every chain margay owns starts with this; nothing else is ever touched. */
export const CHAIN_PREFIX = 'MARGAY-';
/** Every ipset margay owns starts with this. */
export const SET_PREFIX = 'margay';

export const CHAINS = {
  forward: 'MARGAY-FORWARD',
  input: 'MARGAY-INPUT',
  toDispatch: 'MARGAY-TO-WL',
  fromDispatch: 'MARGAY-FROM-WL',
  output: 'MARGAY-OUTPUT',
  hostDispatch: 'MARGAY-HOST-WL',
} as const;

const memo = new Map<string, string>();

/** A short hash of `s` (memoised: names are derived again and again from the same identities). */
export function shortHash(s: string, len = 16): string {
  const key = `${len}\u0000${s}`;
  let h = memo.get(key);
  if (h === undefined) {
    h = createHash('sha256').update(s).digest('base64url').replace(/[-_]/g, 'x').slice(0, len);
    if (memo.size > 200_000) memo.clear();
    memo.set(key, h);
  }
  return h;
}

/** Per-policy-direction chain, e.g. MARGAY-PI-<16> (26 chars). */
export function policyChainName(policy: string, direction: Direction): string {
  return `MARGAY-P${direction === 'ingress' ? 'I' : 'E'}-${shortHash(policy)}`;
}

/** Per-workload chain: MARGAY-TW- (to workload, its ingress) / MARGAY-FW- (from, egress). */
export function workloadChainName(podKey: string, direction: Direction): string {
  return `MARGAY-${direction === 'ingress' ? 'TW' : 'FW'}-${shortHash(podKey)}`;
}

/** Per-workload source check (anti-spoofing) for a pod with several addresses of one family: MARGAY-FS-<16>. */
export function sourceChainName(podKey: string): string {
  return `MARGAY-FS-${shortHash(podKey)}`;
}

export type SetKind = 'pods' | 'net' | 'named';
const SET_TAG: Record<SetKind, string> = { pods: 'p', net: 'n', named: 'np' };

/** ipset name, e.g. margay4-p-<16> (25 chars); one per family. */
export function setName(kind: SetKind, identity: string, family: IpFamily): string {
  return `${SET_PREFIX}${family}-${SET_TAG[kind]}-${shortHash(identity)}`;
}
