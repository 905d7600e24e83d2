/**
 * Rendered data → `iptables-restore` / `ipset restore` text. Every rule carries a
 * comment `margay:<hash> <policy and rule>`; the hash covers the rule's arguments
 * and comment, so the apply layer can compare the kernel's rules with the desired
 * ones by reading back only the hashes of margay's own chains (as Calico does).
 */
import type { FamilyRender, Hook, RenderedChain, RenderedRule, RenderedSet } from './model.js';
import { shortHash } from './names.js';

export const COMMENT_PREFIX = 'margay:';
export const HOOK_COMMENT = 'margay:hook';

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '').slice(0, 200)}"`;
}

const hashes = new WeakMap<RenderedRule, string>();

/** The rule's identity hash (memoised per rule object: unchanged rules are not rehashed). */
export function ruleHash(rule: RenderedRule): string {
  let h = hashes.get(rule);
  if (h === undefined) {
    h = shortHash(`${rule.args.join('\u0000')}\u0001${rule.comment}`, 12);
    hashes.set(rule, h);
  }
  return h;
}

export function ruleLine(chain: string, rule: RenderedRule): string {
  return ['-A', chain, '-m', 'comment', '--comment', quote(`${COMMENT_PREFIX}${ruleHash(rule)} ${rule.comment}`), ...rule.args].join(' ');
}

/** Declares (creating, or flushing if it exists) a chain and appends its rules. */
export function chainLines(c: RenderedChain): string[] {
  return [`:${c.name} - [0:0]`, ...c.rules.map((r) => ruleLine(c.name, r))];
}

export function hookLine(h: Hook): string {
  return `-I ${h.chain} 1 -m comment --comment ${quote(HOOK_COMMENT)} -j ${h.target}`;
}

/** Deletes one copy of the hook `hookLine` inserts (the same rule spec, `-D` instead of `-I … 1`). */
export function hookDeleteLine(h: Hook): string {
  return `-D ${h.chain} -m comment --comment ${quote(HOOK_COMMENT)} -j ${h.target}`;
}

/** The whole ruleset of one family, as `iptables-restore --noflush` input. */
export function iptablesRestoreText(f: FamilyRender): string {
  const lines = ['*filter'];
  for (const c of f.chains) lines.push(`:${c.name} - [0:0]`);
  for (const c of f.chains) for (const r of c.rules) lines.push(ruleLine(c.name, r));
  for (const h of f.hooks) lines.push(hookLine(h));
  lines.push('COMMIT', '');
  return lines.join('\n');
}

export function setCreateLine(s: RenderedSet): string {
  return `create ${s.name} ${s.type} family ${s.family === 4 ? 'inet' : 'inet6'} hashsize 1024 maxelem 1048576 -exist`;
}

export function setAddLine(name: string, member: string): string {
  return `add ${name} ${member} -exist`;
}

export function setDelLine(name: string, member: string): string {
  // A nomatch entry is deleted by its element alone.
  return `del ${name} ${member.replace(/ nomatch$/, '')} -exist`;
}

/** All sets of one family with their members, as `ipset restore` input. */
export function ipsetRestoreText(sets: RenderedSet[]): string {
  const lines: string[] = [];
  for (const s of sets) {
    lines.push(setCreateLine(s));
    for (const m of s.members) lines.push(setAddLine(s.name, m));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
