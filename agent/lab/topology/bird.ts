/**
 * BIRD processes in a lab (shell): a daemon started with `lab.startProcess` (so it is
 * recorded by PID in the lab's state and `margay lab down` stops it), its config and
 * control socket under the lab's directory, and `birdc` on that socket only.
 *
 * startTorBird puts the top-of-rack router of a `tor` topology in the fabric
 * namespace; startNodeBirds runs one BIRD per node namespace as the node's speaker
 * (iBGP full mesh; beside agents run with `--bgp off`, or alone as the convergence
 * benchmark's bare reference); startBird is the general form.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecError, run } from '../exec.js';
import type { Lab, LabProcess } from '../lab.js';
import { POD_POOL_V4 } from '../plan.js';
import { renderBirdSpeakerConfig, renderTorBirdConfig } from './bird-config.js';
import type { TopologyPlan } from './manifests.js';

export interface LabBird {
  name: string;
  ns: string;
  config: string;
  socket: string;
  process: LabProcess;
  /** runs one birdc command; BIRD's own error answers are returned, not thrown */
  birdc(cmd: string): Promise<string>;
  /** number of routes in master4 (`show route count`) */
  routeCount(): Promise<number>;
  /** the state column of `show protocols` for every BGP protocol, by name */
  bgpStates(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startBird(lab: Lab, ns: string, name: string, config: string, timeoutMs = 15_000, opts: { detached?: boolean } = {}): Promise<LabBird> {
  const dir = join(lab.logDir, name);
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  await writeFile(conf, config);
  const proc = await lab.startProcess(ns, ['bird', '-f', '-c', conf, '-s', socket, '-P', join(dir, 'bird.pid')], { name, ...(opts.detached ? { detached: true } : {}) });
  const birdc = async (cmd: string): Promise<string> => {
    try {
      return (await run(['birdc', '-s', socket, ...cmd.split(' ')], { timeoutMs: 10_000 })).stdout;
    } catch (err) {
      if (err instanceof ExecError && err.stdout.includes('BIRD')) return err.stdout;
      throw err;
    }
  };
  const deadline = Date.now() + timeoutMs;
  let exited: number | string | undefined;
  void proc.exited.then((code) => { exited = code; });
  for (;;) {
    const up = await birdc('show status').then((s) => s.includes('Daemon is up'), () => false);
    if (up) break;
    if (exited !== undefined || Date.now() > deadline) {
      await lab.stopProcess(proc).catch(() => undefined);
      throw new Error(`BIRD ${name} in ${ns} did not come up (${exited !== undefined ? `exited: ${exited}` : 'timed out'}); see ${proc.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    ns,
    config: conf,
    socket,
    process: proc,
    birdc,
    async routeCount() {
      const out = await birdc('show route count');
      const m = /(\d+) of \d+ routes/.exec(out) ?? /(\d+) routes/.exec(out);
      return m ? Number(m[1]) : 0;
    },
    async bgpStates() {
      const out = await birdc('show protocols');
      const states: Record<string, string> = {};
      for (const line of out.split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f[1] === 'BGP' && f[0] !== undefined) states[f[0]] = f.slice(5).join(' ');
      }
      return states;
    },
    stop: () => lab.stopProcess(proc),
  };
}

/** The ToR of a `tor` topology plan: BIRD in the fabric namespace, peering with every node. */
export async function startTorBird(lab: Lab, plan: TopologyPlan, opts: { acceptPrefixes?: string[]; detached?: boolean; announceForeign?: string[] } = {}): Promise<LabBird> {
  if (!plan.tor) throw new Error(`topology ${plan.kind} has no top-of-rack router`);
  const gateways = lab.fabric.subnets.map((s) => s.gateway);
  const config = renderTorBirdConfig({
    routerId: gateways[0] as string,
    asn: plan.tor.asn,
    overrideAsn: plan.clusterAsn,
    acceptPrefixes: opts.acceptPrefixes ?? [POD_POOL_V4],
    peers: plan.tor.peers,
    ...(opts.announceForeign ? { announceForeign: opts.announceForeign } : {}),
  });
  return startBird(lab, lab.fabric.ns, 'tor-bird', config, 15_000, { detached: opts.detached ?? false });
}

/**
 * One BIRD per node as that node's BGP speaker, in an iBGP full mesh: it exports the
 * node's blocks from the kernel (with `kernelProtocol: 80`, margay's blackholes only)
 * and installs what it learns (proto bird). Resolves once every session is Established.
 */
export async function startNodeBirds(lab: Lab, opts: { asn?: number; originatePrefixes?: string[]; kernelProtocol?: number; timeoutMs?: number } = {}): Promise<LabBird[]> {
  const birds: LabBird[] = [];
  try {
    for (const n of lab.nodes) {
      const config = renderBirdSpeakerConfig({
        routerId: n.address, asn: opts.asn ?? 64512, local: n.address, originatePrefixes: opts.originatePrefixes ?? [POD_POOL_V4],
        peers: lab.nodes.filter((m) => m !== n).map((m) => ({ name: m.name, address: m.address })),
        ...(opts.kernelProtocol !== undefined ? { kernelProtocol: opts.kernelProtocol } : {}),
      });
      birds.push(await startBird(lab, n.ns, `${n.name}-bird`, config));
    }
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (const b of birds) {
      for (;;) {
        const states = Object.values(await b.bgpStates());
        if (states.length === lab.nodes.length - 1 && states.every((s) => s.startsWith('Established'))) break;
        if (Date.now() > deadline) throw new Error(`BIRD ${b.name}: the mesh did not establish (${states.join('; ')})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return birds;
  } catch (err) {
    for (const b of birds) await b.stop().catch(() => undefined);
    throw err;
  }
}
