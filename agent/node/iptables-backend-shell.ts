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
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTool, ToolMissing, type ToolResolver } from '../../policy/apply/tool-path.js';
import { backendTool, chooseIptablesBackend, IPTABLES_TOOLS, type IptablesBackend, type IptablesBackendSetting } from './iptables-backend.js';

export type SaveRunner = (file: string) => Promise<string>;

/** Runs a save tool (5 s at most: iptables-nft 1.8.3 could loop); '' when it fails. */
export const runSave: SaveRunner = (file) => new Promise((resolve) => {
  execFile(file, [], { timeout: 5000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout) => resolve(err ? '' : String(stdout)));
});

export type BackendSelection =
  | { backend: IptablesBackend; reason: string; dir: string }
  | { backend: undefined; reason: string };

export interface SelectOptions {
  setting: IptablesBackendSetting;
  resolve?: ToolResolver;
  runSave?: SaveRunner;
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
  let backend: IptablesBackend;
  let reason: string;
  if (o.setting === 'auto') {
    const saves = { legacy: '', nft: '' };
    let variants = 0;
    for (const b of ['legacy', 'nft'] as const) {
      for (const tool of ['iptables-save', 'ip6tables-save']) {
        const file = found(resolve, backendTool(tool, b));
        if (file === undefined) continue;
        variants++;
        saves[b] += await run(file);
      }
    }
    if (variants === 0) return { backend: undefined, reason: 'no iptables-legacy/iptables-nft tools: iptables is used as installed' };
    ({ backend, reason } = chooseIptablesBackend(saves));
  } else {
    backend = o.setting;
    reason = 'set by MARGAY_IPTABLES_BACKEND';
  }
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), `margay-iptables-${backend}-`));
  for (const tool of IPTABLES_TOOLS) symlinkSync(resolve(backendTool(tool, backend)), join(dir, tool));
  return { backend, reason, dir };
}
