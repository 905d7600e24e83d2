/**
 * Where the margay-cni plugin executable is, for everything in this repository
 * that runs it (the lab's agents, the CNI tests, the benchmark): the Go binary
 * dist/bin/margay-cni when `npm run build` built it (agent/cni/go/build.sh), else
 * the Node plugin dist/agent/cni/margay-cni.js. MARGAY_CNI_PLUGIN=go|node forces
 * one (tests and the benchmark run both).
 */
import { chmodSync, existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type CniPluginKind = 'go' | 'node';

export interface CniPlugin {
  kind: CniPluginKind;
  /** the executable (go) or the script (node) */
  path: string;
  /** the command line that runs it */
  argv: string[];
  built: boolean;
}

// dist/ beside this file when it runs from dist/, else the repository's dist/ (tests run the sources)
const here = dirname(fileURLToPath(import.meta.url));
const dist = here.split(/[\\/]/).includes('dist') ? join(here, '..', '..') : join(here, '..', '..', 'dist');

export const GO_CNI_BIN = join(dist, 'bin', 'margay-cni');
export const NODE_CNI_JS = join(dist, 'agent', 'cni', 'margay-cni.js');

function pick(kind: CniPluginKind): CniPlugin {
  return kind === 'go'
    ? { kind, path: GO_CNI_BIN, argv: [GO_CNI_BIN], built: existsSync(GO_CNI_BIN) }
    : { kind, path: NODE_CNI_JS, argv: [process.execPath, NODE_CNI_JS], built: existsSync(NODE_CNI_JS) };
}

/** The plugin to run: `kind` or MARGAY_CNI_PLUGIN if given, else Go when built, else Node. */
export function cniPlugin(kind?: CniPluginKind): CniPlugin {
  const forced = kind ?? process.env.MARGAY_CNI_PLUGIN;
  if (forced === 'go' || forced === 'node') return pick(forced);
  if (forced) throw new Error(`MARGAY_CNI_PLUGIN="${forced}": expected "go" or "node"`);
  const go = pick('go');
  return go.built ? go : pick('node');
}

/**
 * Puts an executable `margay-cni` into a CNI_PATH directory, as a runtime finds
 * plugins: a symlink to the Go binary, or a small sh launcher of the Node plugin.
 */
export function installCniPlugin(dir: string, plugin: CniPlugin = cniPlugin()): string {
  const dest = join(dir, 'margay-cni');
  if (plugin.kind === 'go') {
    symlinkSync(plugin.path, dest);
  } else {
    writeFileSync(dest, `#!/bin/sh\nexec ${plugin.argv.map((a) => JSON.stringify(a)).join(' ')} "$@"\n`);
    chmodSync(dest, 0o755);
  }
  return dest;
}
