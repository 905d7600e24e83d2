import { createLab, type Lab } from './lab.js';
import { podAddress } from './plan.js';
import { renderLabSummary } from './summary.js';

/**
 * `margay lab demo`: a clean sequence of steps, each with a title and a verdict,
 * on a lab built for the purpose and torn down at the end (unless `keep`).
 * Later work adds steps (agents, BGP, pod-to-pod across nodes, policy) by
 * appending to DEMO_STEPS; each step gets the lab and returns its checks.
 */
export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

export interface DemoStep {
  title: string;
  run(lab: Lab): Promise<Check[]>;
}

export interface DemoOptions {
  prefix: string;
  keep: boolean;
  /** Results, for the person watching (stdout). */
  out: (line: string) => void;
  /** Progress while building and tearing down (stderr). */
  progress: (line: string) => void;
}

export const DEMO_NODES = 3;

export const DEMO_STEPS: DemoStep[] = [
  {
    title: 'one pod per node, wired like Calico (veth, /32 host route, proxy ARP)',
    async run(lab) {
      const checks: Check[] = [];
      for (const n of lab.nodes) {
        const pod = await lab.addPod(n.name, 'pod1', podAddress(n.index, 1));
        checks.push({ what: `pod ${n.name}/pod1`, ok: true, detail: `${pod.ipv4} ${pod.ipv6 ?? ''} in ${pod.ns}` });
      }
      return checks;
    },
  },
  {
    title: 'every node pings every other node across the fabric (IPv4 and IPv6)',
    async run(lab) {
      const checks: Check[] = [];
      for (const a of lab.nodes) {
        for (const b of lab.nodes) {
          if (a === b) continue;
          for (const addr of [b.address, b.address6]) checks.push(await pingCheck(lab, a.ns, `${a.name} → ${b.name}`, addr));
        }
      }
      return checks;
    },
  },
  {
    title: 'every pod pings its own node through its gateway 169.254.1.1',
    async run(lab) {
      const checks: Check[] = [];
      for (const p of lab.pods) checks.push(await pingCheck(lab, p.ns, `${p.node}/${p.name} → ${p.node}`, lab.node(p.node).address));
      return checks;
    },
  },
];

async function pingCheck(lab: Lab, ns: string, what: string, address: string): Promise<Check> {
  const r = await lab.ping(ns, address, { count: 1, timeoutS: 2 });
  return { what: `${what} ${address}`, ok: r.ok, detail: r.ok ? `${r.rttMs ?? '?'} ms` : 'no reply' };
}

/** Runs the demo; resolves the exit code (0 when every check passed). */
export async function runDemo(opts: DemoOptions, steps: DemoStep[] = DEMO_STEPS): Promise<number> {
  const total = steps.length + 1;
  opts.out(`step 1/${total}: build ${DEMO_NODES} nodes on an L2 fabric, each a network namespace`);
  const lab = await createLab({ nodes: DEMO_NODES, fabric: 'l2', prefix: opts.prefix, origin: 'cli', onProgress: opts.progress });
  let failed = 0;
  try {
    for (const [i, step] of steps.entries()) {
      opts.out(`step ${i + 2}/${total}: ${step.title}`);
      for (const c of await step.run(lab)) {
        if (!c.ok) failed++;
        opts.out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what}: ${c.detail}`);
      }
    }
    opts.out('');
    opts.out(renderLabSummary(lab).trimEnd());
    opts.out('');
    opts.out(failed === 0 ? 'demo: every check passed' : `demo: ${failed} check(s) FAILED`);
  } finally {
    if (!opts.keep) {
      await lab.destroy();
      opts.out('demo: lab torn down (nothing left behind; --keep leaves it up)');
    } else {
      opts.out(`demo: lab left up (--keep); margay lab down --prefix ${lab.prefix.slice(0, -1)} removes it`);
    }
  }
  return failed === 0 ? 0 : 1;
}
