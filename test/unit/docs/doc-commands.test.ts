import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { margay, REPO_ROOT } from '../../support/cli.js';

// The operator's documents, read as an operator would: every `margay …` command they
// show must name a real (sub)command, and every --flag on it must be one that
// command's --help lists. Runs the built CLI: `npx tsc -p tsconfig.json` first.

const COMMANDS = ['agent', 'status', 'bgp', 'policy', 'lab', 'validate', 'cleanup'];
const GROUPS = ['bgp', 'policy', 'lab'];

interface DocCommand {
  file: string;
  line: number;
  text: string;
}

/** Where commands are shown: markdown code (spans, fenced and indented blocks); NOTES and YAML comments whole. */
function codeOf(file: string, text: string): { line: number; code: string }[] {
  const out: { line: number; code: string }[] = [];
  const lines = text.split('\n');
  if (!file.endsWith('.md')) {
    lines.forEach((l, i) => out.push({ line: i + 1, code: file.endsWith('.yaml') ? (/^\s*#(.*)$/.exec(l)?.[1] ?? '') : l }));
    return out;
  }
  let fenced = false;
  lines.forEach((l, i) => {
    if (/^\s*```/.test(l)) {
      fenced = !fenced;
      return;
    }
    if (fenced || /^ {4}\S/.test(l)) out.push({ line: i + 1, code: l });
    else for (const m of l.matchAll(/`([^`]+)`/g)) out.push({ line: i + 1, code: m[1] as string });
  });
  return out;
}

/** `margay CMD …` up to the end of that command (a pipe, `&&`, `;`, a comment, a closing bracket). */
function commandsIn(file: string, text: string): DocCommand[] {
  const out: DocCommand[] = [];
  for (const { line, code: raw } of codeOf(file, text)) {
    // `[--prefix P | --all]`, `l2|routed`: alternatives of one command, not pipes
    const code = raw.replace(/\[[^\]]*\]/g, (s) => s.replace(/\|/g, ' '));
    for (const m of code.matchAll(new RegExp(`(?:^|[\\s(\`])margay ((?:${COMMANDS.join('|')})\\b[^|;#)\`]*)`, 'g'))) {
      const cmd = (m[1] as string).split('&&')[0] as string;
      out.push({ file, line, text: cmd.trim() });
    }
  }
  return out;
}

function docFiles(): string[] {
  const md = (dir: string): string[] => readdirSync(join(REPO_ROOT, dir)).filter((f) => f.endsWith('.md')).map((f) => join(dir, f));
  const yaml = readdirSync(join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => join('examples', f));
  return ['README.md', ...md('docs'), 'charts/margay/README.md', 'charts/margay/templates/NOTES.txt', 'charts/margay/values.yaml', 'examples/policies/README.md', ...yaml];
}

const helpCache = new Map<string, { status: number | null; text: string }>();
function help(path: string[]): { status: number | null; text: string } {
  const key = path.join(' ');
  let h = helpCache.get(key);
  if (!h) {
    const r = margay([...path, '--help'], { env: { MARGAY_LOG_LEVEL: 'error' } });
    h = { status: r.status, text: r.stdout + r.stderr };
    helpCache.set(key, h);
  }
  return h;
}

/** What is wrong with one documented command (empty: it matches the CLI). */
function problemsOf(c: DocCommand): string[] {
  const words = c.text.split(/\s+/);
  const cmd = words[0] as string;
  const path = [cmd];
  if (GROUPS.includes(cmd)) {
    const sub = words[1];
    // prose such as `margay lab` (the group itself) names no subcommand
    if (sub === undefined || !/^[a-z]+$/.test(sub)) return [];
    path.push(sub);
  }
  const h = help(path);
  if (h.status !== 0) return [`margay ${path.join(' ')}: no such command (--help exit ${h.status})`];
  const flags = [...c.text.matchAll(/(?:^|\s|\[)(--[a-z][a-z0-9-]*)/g)].map((m) => m[1] as string);
  return flags.filter((f) => f !== '--help' && !new RegExp(`(^|[\\s\\[|,(])${f}([\\s=\\],|]|$)`, 'm').test(h.text))
    .map((f) => `margay ${path.join(' ')}: ${f} is not in its --help`);
}

describe('commands shown in the documentation', () => {
  const all = docFiles().flatMap((f) => commandsIn(f, readFileSync(join(REPO_ROOT, f), 'utf8')));

  it('finds the commands (a reader that finds none must fail)', () => {
    expect(all.length).toBeGreaterThan(40);
    expect(all.some((c) => c.file === 'README.md' && c.text.startsWith('lab up --nodes 5 --fabric routed'))).toBe(true);
    expect(all.some((c) => c.file.startsWith('charts/') && c.text.startsWith('status'))).toBe(true);
  });

  it('every one names a real command and only flags its --help lists', () => {
    const problems = all.flatMap((c) => problemsOf(c).map((p) => `${c.file}:${c.line}: \`margay ${c.text}\`: ${p}`));
    expect(problems).toEqual([]);
  });

  it('the checker itself catches a made-up flag and a made-up subcommand', () => {
    expect(problemsOf({ file: 'x.md', line: 1, text: 'lab up --nodes 2 --frobnicate' })).toEqual(['margay lab up: --frobnicate is not in its --help']);
    expect(problemsOf({ file: 'x.md', line: 1, text: 'bgp explode FILE' })[0]).toMatch(/^margay bgp explode: no such command/);
  });
});
