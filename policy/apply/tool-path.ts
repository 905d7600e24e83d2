import { accessSync, constants, statSync } from 'node:fs';

/**
 * Where the kernel tools (iptables-restore, ip6tables-restore, iptables-save,
 * ipset, ip) are: looked up in PATH once per tool, on its first use, and cached;
 * the cached file is checked at each use and looked up again if it is gone —
 * spawning by bare name makes every call search PATH again (one failed execve per
 * entry before the right one). A tool that is
 * not found is not cached (it may be installed later) and fails with ToolMissing,
 * which names the tool and the directories searched. Only absolute PATH entries
 * are searched: an empty or relative one would mean the working directory.
 */

export class ToolMissing extends Error {
  constructor(readonly tool: string, readonly searched: readonly string[]) {
    super(`${tool}: not found in PATH (searched ${searched.length > 0 ? searched.join(':') : 'nothing: PATH has no absolute directory'}); install it or add its directory to PATH`);
    this.name = 'ToolMissing';
  }
}

/** Used when PATH is unset or empty (as execvp's default, with the sbin directories). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Pure: the first `dir/name`, over the absolute directories of `pathEnv` in order,
 * that `isExecutable` accepts; else the directories searched. A name with a slash
 * is taken as given.
 */
export function searchPath(name: string, pathEnv: string | undefined, isExecutable: (file: string) => boolean): { found: string } | { searched: string[] } {
  if (name.includes('/')) return { found: name };
  const dirs = (pathEnv === undefined || pathEnv === '' ? DEFAULT_PATH : pathEnv).split(':').filter((d) => d.startsWith('/'));
  const searched: string[] = [];
  for (const dir of dirs) {
    const file = `${dir.replace(/\/+$/, '')}/${name}`;
    if (isExecutable(file)) return { found: file };
    searched.push(dir);
  }
  return { searched };
}

/** A regular file this process may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export type ToolResolver = (name: string) => string;

/**
 * A resolver with its own cache: the absolute path of `name`, looked up on its
 * first use and again when the cached file is no longer executable; throws ToolMissing. `pathEnv` is read at each lookup (default
 * process.env.PATH), so a tool installed later is found by the next call.
 */
export function toolResolver(opts: { pathEnv?: () => string | undefined; isExecutable?: (file: string) => boolean } = {}): ToolResolver {
  const cache = new Map<string, string>();
  const pathEnv = opts.pathEnv ?? ((): string | undefined => process.env.PATH);
  const isExecutable = opts.isExecutable ?? isExecutableFile;
  return (name) => {
    const hit = cache.get(name);
    // re-checked at each use (two syscalls beside the spawn's fork and exec): a tool moved or removed is looked up again
    if (hit !== undefined && isExecutable(hit)) return hit;
    cache.delete(name);
    const r = searchPath(name, pathEnv(), isExecutable);
    if ('searched' in r) throw new ToolMissing(name, r.searched);
    cache.set(name, r.found);
    return r.found;
  };
}

/** The process-wide resolver (hostExec's default). */
export const resolveTool: ToolResolver = toolResolver();

/** `argv` with its tool as an absolute path, run through `ip netns exec` when `netns` is given; throws ToolMissing. */
export function toolArgv(argv: readonly string[], netns: string | undefined, resolve: ToolResolver = resolveTool): string[] {
  const [tool = '', ...rest] = argv;
  return netns === undefined ? [resolve(tool), ...rest] : [resolve('ip'), 'netns', 'exec', netns, resolve(tool), ...rest];
}
