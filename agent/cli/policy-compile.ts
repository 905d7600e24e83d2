import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Command } from './command.js';
import { parseFlags, choiceFlag } from './args.js';
import { UsageError } from './usage-error.js';
import { compile, snapshotFromObjects } from '../../policy/compile.js';
import { iptablesRestoreText, ipsetRestoreText } from '../../policy/render/restore-text.js';

const USAGE = `usage: margay policy compile --pods FILE --namespaces FILE --policies DIR [--node NAME] [--format iptables|ipset|json]

Prints the iptables and ipset rules margay would apply on a node for the given
objects (YAML or JSON, multi-document, or a v1 List). Invalid NetworkPolicies are
reported on stderr with the field path and left out; the others are compiled.

  --pods FILE         Pod objects
  --namespaces FILE   Namespace objects
  --policies DIR      NetworkPolicy manifests (*.yaml, *.yml, *.json); a FILE works too
  --node NAME         the node whose local pods to compile (default: every pod)
  --format F          iptables (default: iptables-restore text, v4 then v6),
                      ipset (ipset restore text), json (the per-pod IR and rules)`;

type Obj = Record<string, unknown>;

/** Every object in a YAML/JSON text: multi-document, and `items` of a List expanded. */
export function parseManifests(text: string, source: string): Obj[] {
  const out: Obj[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    const v: unknown = doc.toJS();
    const push = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(push);
      else if (typeof x === 'object' && x !== null) {
        const o = x as Obj;
        if (Array.isArray(o.items) && (o.kind === undefined || String(o.kind).endsWith('List'))) o.items.forEach(push);
        else out.push(o);
      }
    };
    push(v);
  }
  return out;
}

/** Reads a manifest file, or every *.yaml/*.yml/*.json file of a directory (sorted). */
export async function loadManifests(path: string): Promise<Obj[]> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new UsageError(`${path}: no such file or directory`);
  const files = st.isDirectory()
    ? (await readdir(path)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => join(path, f))
    : [path];
  const out: Obj[] = [];
  for (const f of files) out.push(...parseManifests(await readFile(f, 'utf8'), f));
  return out;
}

export const policyCompileCommand: Command = {
  name: 'compile',
  summary: 'print the iptables/ipset rules for given objects',
  usage: USAGE,
  async run(argv) {
    const { values } = parseFlags(argv, {
      pods: { type: 'string' }, namespaces: { type: 'string' }, policies: { type: 'string' },
      node: { type: 'string' }, format: { type: 'string' },
    }, USAGE);
    for (const f of ['pods', 'namespaces', 'policies'] as const) {
      if (values[f] === undefined) throw new UsageError(`--${f} is required`, USAGE);
    }
    const format = choiceFlag(values.format, 'format', ['iptables', 'ipset', 'json'] as const, 'iptables');
    const pods = await loadManifests(values.pods as string);
    const namespaces = await loadManifests(values.namespaces as string);
    const policyObjects = (await loadManifests(values.policies as string)).filter((o) => o.kind === undefined || o.kind === 'NetworkPolicy');
    const snapshot = snapshotFromObjects(pods.filter((o) => o.kind === undefined || o.kind === 'Pod'), namespaces.filter((o) => o.kind === undefined || o.kind === 'Namespace'));
    const c = compile(snapshot, policyObjects, values.node ?? null);
    for (const r of c.rejected) {
      for (const e of r.errors) process.stderr.write(`margay: rejected NetworkPolicy ${r.name}: ${e.path}: ${e.message}\n`);
    }
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ node: c.ir.node, rejected: c.rejected, workloads: c.ir.workloads, policies: c.ir.policies, rendered: c.rendered }, null, 2)}\n`);
    } else if (format === 'ipset') {
      process.stdout.write(`# ipset restore (IPv4)\n${ipsetRestoreText(c.rendered.v4.sets)}# ipset restore (IPv6)\n${ipsetRestoreText(c.rendered.v6.sets)}`);
    } else {
      process.stdout.write(`# iptables-restore --noflush (IPv4)\n${iptablesRestoreText(c.rendered.v4)}# ip6tables-restore --noflush (IPv6)\n${iptablesRestoreText(c.rendered.v6)}`);
    }
    return 0;
  },
};
