/**
 * Shell of iptables-backend.ts: reads both backends' rules (auto), then puts a
 * directory first in the agent's PATH whose `iptables`, `iptables-save`,
 * `iptables-restore` and the ip6tables ones link to the chosen backend's tools
 * (`iptables-legacy-restore`, ...), as kubernetes-sigs/iptables-wrappers does.
 * Every caller that runs these tools by name — the policy applier
 * (policy/apply/exec.ts resolves names in PATH at each lookup), the natOutgoing
 * chain (dataplane/nat-outgoing.ts) — then uses that backend without knowing.
 * The links keep their plain names: xtables-*-multi dispatches on argv[0]'s base
 * name. The directory is the process's own (a temporary one), never the host's.
 * Then it removes margay's hooks and chains from the backend not chosen (left by a
 * run that chose it), with that backend's own save/restore tools; a failure there is
 * reported in `cleaned`, not thrown: the chosen backend works regardless.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTool, ToolMissing, type ToolResolver } from '../../policy/apply/tool-path.js';
import { backendTool, chooseIptablesBackend, IPTABLES_TOOLS, margayCleanup, type IptablesBackend, type IptablesBackendSetting } from './iptables-backend.js';

export type SaveRunner = (file: string) => Promise<string>;

/** Runs a save tool (5 s at most: iptables-nft 1.8.3 could loop); '' when it fails. */
export const runSave: SaveRunner = (file) => new Promise((resolve) => {
  execFile(file, [], { timeout: 5000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout) => resolve(err ? '' : String(stdout)));
});

export type RestoreRunner = (file: string, input: string) => Promise<void>;

/** Runs `<restore> -w --noflush` with `input` on stdin (10 s at most); rejects with its stderr. */
export const runRestore: RestoreRunner = (file, input) => new Promise((resolve, reject) => {
  const child = execFile(file, ['-w', '--noflush'], { timeout: 10_000 }, (err, _stdout, stderr) => {
    if (err) reject(new Error(`${file} -w --noflush: ${String(stderr).trim() || err.message}`));
    else resolve();
  });
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(input);
});

/** margay's state removed (or not: `error`) from one family of the backend not chosen. */
export interface BackendCleanup {
  backend: IptablesBackend;
  /** the restore tool that ran */
  tool: string;
  rules: number;
  chains: string[];
  error?: string;
}

export type BackendSelection =
  | { backend: IptablesBackend; reason: string; dir: string; cleaned: BackendCleanup[] }
  | { backend: undefined; reason: string };

export interface SelectOptions {
  setting: IptablesBackendSetting;
  resolve?: ToolResolver;
  runSave?: SaveRunner;
  runRestore?: RestoreRunner;
  /** where the links go (default: a new temporary directory) */
  dir?: string;
}

const found = (resolve: ToolResolver, name: string): string | undefined => {
  try {
    return resolve(name);
  } catch (err) {
    if (err instanceof ToolMissing) return undefined;
    throw err;
  }
};

/**
 * Picks the backend and makes the link directory; the caller puts `dir` first in
 * PATH. `auto` on a system without `-legacy`/`-nft` variants (iptables built for
 * one backend only) changes nothing (backend undefined). An explicit backend
 * whose tools are missing throws ToolMissing.
 */
export async function selectIptablesBackend(o: SelectOptions): Promise<BackendSelection> {
  const resolve = o.resolve ?? resolveTool;
  const run = o.runSave ?? runSave;
  // save output per backend and save tool ('iptables-save', 'ip6tables-save'), read once
  const saved: Record<IptablesBackend, Map<string, string>> = { legacy: new Map(), nft: new Map() };
  const readSaves = async (b: IptablesBackend): Promise<void> => {
    for (const tool of SAVE_TOOLS) {
      const file = found(resolve, backendTool(tool, b));
      if (file !== undefined) saved[b].set(tool, await run(file));
    }
  };
  let backend: IptablesBackend;
  let reason: string;
  if (o.setting === 'auto') {
    await readSaves('legacy');
    await readSaves('nft');
    if (saved.legacy.size + saved.nft.size === 0) return { backend: undefined, reason: 'no iptables-legacy/iptables-nft tools: iptables is used as installed' };
    const joined = (b: IptablesBackend): string => [...saved[b].values()].join('');
    ({ backend, reason } = chooseIptablesBackend({ legacy: joined('legacy'), nft: joined('nft') }));
  } else {
    backend = o.setting;
    reason = 'set by MARGAY_IPTABLES_BACKEND';
  }
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), `margay-iptables-${backend}-`));
  for (const tool of IPTABLES_TOOLS) symlinkSync(resolve(backendTool(tool, backend)), join(dir, tool));
  const other: IptablesBackend = backend === 'nft' ? 'legacy' : 'nft';
  if (o.setting !== 'auto') await readSaves(other);
  const cleaned = await cleanOther(other, saved[other], resolve, o.runRestore ?? runRestore);
  return { backend, reason, dir, cleaned };
}

const SAVE_TOOLS = ['iptables-save', 'ip6tables-save'] as const;

/** margayCleanup of each family's save, run through the backend's restore tool; errors reported, never thrown. */
async function cleanOther(b: IptablesBackend, saves: Map<string, string>, resolve: ToolResolver, restore: RestoreRunner): Promise<BackendCleanup[]> {
  const out: BackendCleanup[] = [];
  for (const [saveTool, save] of saves) {
    const plan = margayCleanup(save);
    if (plan.script === '') continue;
    const name = backendTool(saveTool.replace('-save', '-restore'), b);
    let tool = name;
    try {
      tool = resolve(name);
      await restore(tool, plan.script);
      out.push({ backend: b, tool, rules: plan.rules, chains: plan.chains });
    } catch (err) {
      out.push({ backend: b, tool, rules: plan.rules, chains: plan.chains, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}
