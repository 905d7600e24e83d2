/**
 * `npm run bench -- [GROUP...]`: runs benchmark groups (bgp, policy, dataplane,
 * agent). A group is a folder test/bench/<group>/ whose `*.bench.js` modules (after
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

async function runGroup(group: string): Promise<number> {
  const dir = join(here, group);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.bench.js')).sort();
  if (files.length === 0) {
    process.stderr.write(`bench: group "${group}" has no benchmarks\n`);
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
for (const g of wanted) {
  if (!known.includes(g)) {
    process.stderr.write(`bench: unknown group "${g}"; groups: ${known.join(', ')}\n`);
    process.exit(2);
  }
}
let failed = 0;
for (const g of wanted.length > 0 ? wanted : known) failed += await runGroup(g);
process.exitCode = failed > 0 ? 1 : 0;
