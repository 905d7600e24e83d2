/**
 * Which iptables backend the agent drives: the host's. iptables has two kernel
 * interfaces — legacy (x_tables) and nft (nf_tables) — and rules written through
 * one are invisible to the other, so an agent whose image defaults to nft (Debian's
 * default) on a node where kubelet and kube-proxy use legacy programs rules that
 * sit beside theirs in another table set. Like Calico's FELIX_IPTABLESBACKEND=Auto
 * and kubernetes-sigs/iptables-wrappers, `auto` reads both backends and follows
 * the one the node already uses, judged by foreign rules only. Switching backends
 * (the setting changed, or auto read the node differently) leaves margay's rules in
 * the old one: margayCleanup turns its save output into their removal. Pure: the
 * save outputs arrive as arguments (iptables-backend-shell.ts runs the tools).
 */

export type IptablesBackend = 'legacy' | 'nft';
export type IptablesBackendSetting = 'auto' | IptablesBackend;

const IPTABLES_BACKEND_SETTINGS: readonly IptablesBackendSetting[] = ['auto', 'nft', 'legacy'];

/** The setting from MARGAY_IPTABLES_BACKEND / --iptables-backend (unset or '' = auto); undefined when unknown. */
export function parseIptablesBackend(value: string | undefined): IptablesBackendSetting | undefined {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '') return 'auto';
  return (IPTABLES_BACKEND_SETTINGS as readonly string[]).includes(v) ? (v as IptablesBackendSetting) : undefined;
}

/**
 * Chains kubelet creates in the mangle table of the backend it uses
 * (KUBE-IPTABLES-HINT since Kubernetes 1.24, KUBE-KUBELET-CANARY before):
 * the clearest sign of the node's choice.
 */
const HINT_CHAINS = ['KUBE-IPTABLES-HINT', 'KUBE-KUBELET-CANARY'];

/** At least this many rules in legacy: legacy is in use whatever nft holds (iptables-wrappers' threshold). */
const LEGACY_RULES_IN_USE = 10;

export interface BackendSaves {
  /** `iptables-legacy-save` and `ip6tables-legacy-save` output, concatenated ('' when the tool failed) */
  legacy: string;
  /** `iptables-nft-save` and `ip6tables-nft-save` output, likewise */
  nft: string;
}

export interface BackendChoice {
  backend: IptablesBackend;
  /** why, for the log */
  reason: string;
}

const lines = (save: string): string[] => save.split('\n');
const hasHint = (save: string): boolean => lines(save).some((l) => HINT_CHAINS.some((c) => l.startsWith(`:${c} `) || l === `:${c}`));

/** margay's chains (policy/render/names.ts CHAIN_PREFIX, the nat table's MARGAY-NAT-OUTGOING). */
const MARGAY_CHAIN = /^MARGAY-/;
/** A rule margay wrote into someone else's chain: its `margay:` comment (hook, NAT jump) or a jump into a MARGAY-* chain. */
const isMargayRule = (rest: string): boolean => /--comment "?margay:/.test(rest) || /(^| )-[jg] MARGAY-/.test(rest);
/** `-A CHAIN rest` → [CHAIN, rest]. */
const ruleOf = (l: string): [string, string] | undefined => {
  const m = /^-A (\S+) ?(.*)$/.exec(l);
  return m ? [m[1] ?? '', m[2] ?? ''] : undefined;
};

/**
 * Foreign rules (`-A CHAIN ...` lines, not chain declarations or comments): margay's
 * own chains, hooks and NAT jump are no sign that the node uses a backend — counting
 * them would make margay's last choice its own evidence.
 */
export const ruleCount = (save: string): number => lines(save).filter((l) => {
  const r = ruleOf(l);
  return r !== undefined && !MARGAY_CHAIN.test(r[0]) && !isMargayRule(r[1]);
}).length;

export interface CleanupPlan {
  /** `iptables-restore --noflush` input ('' when the save holds nothing of margay's) */
  script: string;
  /** margay's rules in foreign chains that the script deletes (hooks, NAT jumps) */
  rules: number;
  /** `table/chain` of the MARGAY-* chains it flushes and deletes */
  chains: string[];
}

/**
 * Removes margay's state from one family of the backend not chosen (its save output):
 * per table, `-D` of each margay rule in a foreign chain (as saved, duplicates too),
 * then `-F` and `-X` of every MARGAY-* chain. Foreign rules are never named. Left in
 * place, the old backend's hooks would still send every packet through fail-closed
 * chains nobody updates any more.
 */
export function margayCleanup(save: string): CleanupPlan {
  const out: string[] = [];
  const allChains: string[] = [];
  let rules = 0;
  let table: string | undefined;
  let dels: string[] = [];
  let chains: string[] = [];
  const flushTable = (): void => {
    if (table !== undefined && (dels.length > 0 || chains.length > 0)) {
      out.push(`*${table}`, ...dels, ...chains.map((c) => `-F ${c}`), ...chains.map((c) => `-X ${c}`), 'COMMIT');
      rules += dels.length;
      allChains.push(...chains.map((c) => `${table}/${c}`));
    }
    dels = [];
    chains = [];
  };
  for (const l of lines(save)) {
    if (l.startsWith('*')) {
      flushTable();
      table = l.slice(1).trim();
    } else if (l.startsWith(':')) {
      const name = l.slice(1).split(' ')[0] ?? '';
      if (MARGAY_CHAIN.test(name) && !chains.includes(name)) chains.push(name);
    } else if (l === 'COMMIT') {
      flushTable();
      table = undefined;
    } else {
      const r = ruleOf(l);
      if (r !== undefined && !MARGAY_CHAIN.test(r[0]) && isMargayRule(r[1])) dels.push(`-D ${r[0]} ${r[1]}`);
    }
  }
  flushTable();
  return { script: out.length > 0 ? [...out, ''].join('\n') : '', rules, chains: allChains };
}

/**
 * The backend the node uses: kubelet's hint chain if exactly one backend has it;
 * else legacy when it holds LEGACY_RULES_IN_USE rules or more; else the one with
 * more rules; on a tie (an empty node) nft, the default of current distributions
 * and of the image.
 */
export function chooseIptablesBackend(saves: BackendSaves): BackendChoice {
  const hint = { legacy: hasHint(saves.legacy), nft: hasHint(saves.nft) };
  if (hint.nft !== hint.legacy) {
    const backend: IptablesBackend = hint.nft ? 'nft' : 'legacy';
    return { backend, reason: `kubelet's ${HINT_CHAINS.join('/')} chain is in the ${backend} tables` };
  }
  const n = { legacy: ruleCount(saves.legacy), nft: ruleCount(saves.nft) };
  const counts = `${n.legacy} legacy rules, ${n.nft} nft rules`;
  if (n.legacy >= LEGACY_RULES_IN_USE) return { backend: 'legacy', reason: `${counts} (legacy in use)` };
  if (n.legacy > n.nft) return { backend: 'legacy', reason: `${counts} (more in legacy)` };
  if (n.nft > n.legacy) return { backend: 'nft', reason: `${counts} (more in nft)` };
  return { backend: 'nft', reason: `${counts} (no sign of either: nft, the default)` };
}

/** The tools the agent runs whose backend matters; each exists as `<tool>-legacy` and `<tool>-nft` (Debian, Ubuntu, Fedora...). */
export const IPTABLES_TOOLS = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'] as const;

/** `iptables-restore` → `iptables-legacy-restore`; `iptables` → `iptables-legacy`. */
export function backendTool(tool: string, backend: IptablesBackend): string {
  const m = /^(ip6?tables)(-.*)?$/.exec(tool);
  if (!m) throw new Error(`${tool} is not an iptables tool`);
  return `${m[1]}-${backend}${m[2] ?? ''}`;
}
