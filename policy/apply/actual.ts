/**
 * What margay finds in the kernel, reading only its own objects: chains named
 * MARGAY-* with the rule hashes from their `margay:<hash>` comments, margay's hook
 * rules in FORWARD/INPUT/OUTPUT (with their positions there), and ipsets named margay*. Nobody else's rule or set is
 * interpreted; their lines are skipped by name.
 */
import type { IpFamily } from '../render/names.js';
import { CHAIN_PREFIX, SET_PREFIX } from '../render/names.js';
import { COMMENT_PREFIX, HOOK_COMMENT } from '../render/restore-text.js';
import type { SetType } from '../render/model.js';

export interface ActualChains {
  /** chain → the hash of each rule in order ('?' for a rule without a margay hash). */
  chains: Map<string, string[]>;
  /**
   * `<built-in chain> <target>` → the position (1-based, among all rules of that
   * built-in chain) of each margay hook rule jumping to target, in order. A hook
   * belongs at position 1: a foreign rule above it (kube-proxy's ACCEPT inserted
   * at FORWARD 1) would let traffic bypass policy.
   */
  hooks: Map<string, number[]>;
}

export interface ActualSet {
  type: SetType | string;
  family: IpFamily;
  members: Set<string>;
}

export type ActualSets = Map<string, ActualSet>;

const HASH_RE = new RegExp(`--comment "?${COMMENT_PREFIX}([0-9A-Za-z]+)`);

/** Parses `iptables-save -t filter` output, keeping only margay's chains and hooks. */
export function parseSave(text: string): ActualChains {
  const chains = new Map<string, string[]>();
  const hooks = new Map<string, number[]>();
  const ruleCount = new Map<string, number>();
  let inFilter = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) inFilter = line === '*filter';
    if (!inFilter) continue;
    if (line.startsWith(`:${CHAIN_PREFIX}`)) {
      chains.set(line.slice(1).split(' ')[0] as string, []);
    } else if (line.startsWith(`-A ${CHAIN_PREFIX}`)) {
      const name = line.split(' ')[1] as string;
      const m = HASH_RE.exec(line);
      const list = chains.get(name) ?? [];
      list.push(m && m[1] !== 'hook' ? (m[1] as string) : '?');
      chains.set(name, list);
    } else if (/^-A (FORWARD|INPUT|OUTPUT) /.test(line)) {
      // every rule of the built-in chain counts for the hook's position
      const chain = line.split(' ')[1] as string;
      const pos = (ruleCount.get(chain) ?? 0) + 1;
      ruleCount.set(chain, pos);
      if (!line.includes(HOOK_COMMENT)) continue;
      const target = / -j (\S+)/.exec(line)?.[1] ?? '?';
      const key = `${chain} ${target}`;
      const at = hooks.get(key);
      if (at) at.push(pos);
      else hooks.set(key, [pos]);
    }
  }
  return { chains, hooks };
}

function normaliseMember(type: string, family: IpFamily, member: string): string {
  if (type !== 'hash:net') return member;
  const [addr, ...flags] = member.split(' ');
  const withLen = (addr as string).includes('/') ? addr : `${addr}/${family === 4 ? 32 : 128}`;
  return [withLen, ...flags.filter((f) => f === 'nomatch')].join(' ');
}

/** Parses `ipset save` output, keeping only sets named margay*. */
export function parseIpsetSave(text: string): ActualSets {
  const sets: ActualSets = new Map();
  for (const line of text.split('\n')) {
    const parts = line.split(' ');
    if (!(parts[1] ?? '').startsWith(SET_PREFIX)) continue;
    const name = parts[1] as string;
    if (parts[0] === 'create') {
      const fi = parts.indexOf('family');
      sets.set(name, { type: parts[2] as string, family: parts[fi + 1] === 'inet6' ? 6 : 4, members: new Set() });
    } else if (parts[0] === 'add') {
      const s = sets.get(name);
      if (s) s.members.add(normaliseMember(s.type, s.family, parts.slice(2).join(' ')));
    }
  }
  return sets;
}
