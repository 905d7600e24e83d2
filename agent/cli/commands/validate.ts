import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { parseFlags } from '../args.js';
import { UsageError } from '../usage-error.js';
import { formatFinding, summary, validateFiles } from '../validate.js';
import { loadKubernetesTypes } from '../../../crds/client-node-types.js';

const USAGE = `usage: margay validate [--json] FILE|DIR|- ...

Validates manifests of margay's kinds (IPPool, BGPPeer, BGPConfiguration,
IPAMBlock, BlockAffinity, IPAMHandle) against the CRD schemas, and NetworkPolicy,
Node, Namespace and Pod against the Kubernetes API schemas. Unknown fields are
errors, as with kubectl's strict field validation; NetworkPolicies also get the
policy compiler's checks. Files may hold several YAML documents or a List;
directories are searched for *.yaml, *.yml and *.json; "-" reads stdin.

Each error names the file and line, the document, the object and the field path;
a summary line follows. Exit 0 when everything is valid, 1 otherwise, 2 for a
usage error (no file, a file that does not exist).

flags:
  --json   print the report as one JSON object instead`;

export const validateCommand: Command = {
  name: 'validate',
  summary: 'validate margay and NetworkPolicy manifests',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { json: { type: 'boolean' } }, USAGE, { positionals: true });
    if (positionals.length === 0) throw new UsageError('no files given', USAGE);
    const types = await loadKubernetesTypes();
    let report;
    try {
      report = validateFiles(positionals, () => readFileSync(0, 'utf8'), types);
    } catch (err) {
      throw new UsageError((err as Error).message, USAGE);
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...report, ok: report.findings.length === 0, summary: summary(report) })}\n`);
    } else {
      for (const f of report.findings) process.stdout.write(`${formatFinding(f)}\n`);
      process.stdout.write(`${summary(report)}\n`);
    }
    return report.findings.length === 0 ? 0 : 1;
  },
};
