/**
 * `npm run bench -- [GROUP | GROUP/MODULE ...]`: runs benchmark groups (bgp, policy,
 * dataplane, agent), or single modules of them (e.g. `dataplane/cni`). A group is a folder test/bench/<group>/ whose `*.bench.js` modules (after
 * the build) export `run(emit)`. Every figure is printed as one JSON line on stdout:
 * {"bench": "...", ...figures}. Progress and skips go to stderr.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Emit = (figures: { bench: string } & Record<string, unknown>) => void;
export interface BenchModule {
  run(emit: Emit): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const emit: Emit = (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`);

async function groups(): Promise<string[]> {
  const entries = await readdir(here, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

async function runGroup(group: string, only?: string): Promise<number> {
  const dir = join(here, group);
  const all = (await readdir(dir)).filter((f) => f.endsWith('.bench.js')).sort();
  const files = only === undefined ? all : all.filter((f) => f === `${only}.bench.js`);
  if (files.length === 0) {
    const names = all.map((f) => `${group}/${f.replace(/\.bench\.js$/, '')}`).join(', ');
    process.stderr.write(only === undefined ? `bench: group "${group}" has no benchmarks\n` : `bench: no module "${group}/${only}"; there are: ${names}\n`);
    return 1;
  }
  let failures = 0;
  for (const f of files) {
    process.stderr.write(`bench: ${group}/${f}\n`);
    try {
      const mod = (await import(pathToFileURL(join(dir, f)).href)) as BenchModule;
      await mod.run(emit);
    } catch (err) {
      failures++;
      emit({ bench: `${group}/${f}`, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return failures;
}

const known = await groups();
const wanted = process.argv.slice(2);
for (const w of wanted) {
  const g = w.split('/')[0] as string;
  if (!known.includes(g)) {
    process.stderr.write(`bench: unknown group "${g}"; groups: ${known.join(', ')}\n`);
    process.exit(2);
  }
}
let failed = 0;
for (const w of wanted.length > 0 ? wanted : known) {
  const [g, only] = w.split('/') as [string, string | undefined];
  failed += await runGroup(g, only);
}
process.exitCode = failed > 0 ? 1 : 0;
