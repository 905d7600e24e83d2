/**
 * The graceful-restart bits as they really go on the wire between two agents
 * (RFC 4724 §3): tcpdump inside n2's namespace captures BGP while n1's agent boots,
 * then while it restarts; n1's OPENs are read back twice, by margay's own decoder
 * (`margay bgp decode` on the TCP payload tshark extracts) and by tshark's BGP
 * dissector, and both must agree.
 * - First boot (no margay routes in n1's kernel): Restart State R=0, and the ipv4
 *   unicast Forwarding State F=0 (nothing was kept).
 * - After a pod on n1 (its block route programmed) and a graceful stop (the kernel
 *   keeps the routes), the restarted agent's OPEN has R=1 and F=1.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, type Lab, type LabProcess } from '../../../agent/lab/lab.js';
import { createAgentCluster, type AgentCluster } from '../../../agent/lab/agents.js';
import { run } from '../../../agent/lab/exec.js';
import { waitForLog } from '../../../agent/lab/processes.js';
import { margay, MARGAY_JS, MARGAY_CNI_JS } from '../../support/cli.js';
import { requirements } from '../../support/root.js';
import { waitFor } from '../../support/wait.js';
import { agentLog, destroyAgentLab, margayRoutes, startAgents, waitMeshedAndReady } from '../../support/agent-lab.js';

const needs = requirements({ root: true, built: [MARGAY_JS, MARGAY_CNI_JS], file: import.meta.url });

/** The GR capability of one OPEN as a decoder read it: R, and F for ipv4 unicast (undefined: the family is not listed). */
interface GrBits {
  restarted: boolean;
  ipv4F: boolean | undefined;
}

/** One OPEN n1 sent, as margay decoded it and as tshark dissected it. */
interface SeenOpen {
  frame: number;
  margay: GrBits | undefined;
  tshark: GrBits | undefined;
}

interface GrJson {
  name: string;
  restarted: boolean;
  families: { afi: number; safi: number; forwardingPreserved: boolean }[];
}

/** tshark prints booleans as 1/0 (or True/False, by version); several occurrences joined by ",". */
const bool = (s: string): boolean => s === '1' || s.toLowerCase() === 'true';

describe.skipIf(needs.skip)(`graceful-restart R and F bits in real agents' OPENs, read from a capture (${needs.why}, tcpdump and tshark)`, () => {
  let lab: Lab | undefined;
  let cluster: AgentCluster | undefined;
  let capture: LabProcess | undefined;
  const c = (): AgentCluster => cluster as AgentCluster;

  beforeAll(async () => {
    lab = await createLab({ nodes: 2, fabric: 'l2' });
    cluster = await createAgentCluster(lab);
  }, 120_000);

  afterAll(async () => {
    if (capture && lab) await lab.stopProcess(capture).catch(() => undefined);
    await destroyAgentLab(lab, cluster);
  }, 60_000);

  /** tcpdump on n2's uplink, BGP only, each packet handed over and written at once (--immediate-mode, -U); resolves once it listens. */
  const startCapture = async (name: string): Promise<string> => {
    const l = c().lab;
    const n2 = l.node('n2');
    const file = join(l.logDir, `${name}.pcap`);
    capture = await l.startProcess(n2.ns, ['tcpdump', '-i', n2.uplink, '-n', '-s', '0', '--immediate-mode', '-U', '-Z', 'root', '-w', file, 'tcp', 'port', '179'], { name: `tcpdump-${name}` });
    await waitForLog(capture.logFile, /listening on/, 10_000);
    return file;
  };

  const stopCapture = async (): Promise<void> => {
    const p = capture;
    capture = undefined;
    if (p) await c().lab.stopProcess(p, 3000);
  };

  /** Every OPEN `node` sent in the capture, in order, read by both decoders. */
  const opensFrom = async (file: string, node: string): Promise<SeenOpen[]> => {
    const src = c().lab.node(node).address;
    const out = await run(['tshark', '-r', file, '-Y', `bgp.type == 1 && ip.src == ${src}`, '-T', 'fields', '-E', 'separator=/t',
      '-e', 'frame.number', '-e', 'tcp.payload', '-e', 'bgp.cap.gr.timers.restart_flag', '-e', 'bgp.cap.gr.afi', '-e', 'bgp.cap.gr.safi', '-e', 'bgp.cap.gr.flag.pfs'], { timeoutMs: 30_000 });
    const seen: SeenOpen[] = [];
    for (const line of out.stdout.split('\n').filter((x) => x.trim() !== '')) {
      const [frame = '', payload = '', rFlag = '', afis = '', safis = '', pfs = ''] = line.split('\t');
      // tshark's dissection: the R flag once per capability, AFI/SAFI/F once per family
      const a = afis.split(','), s = safis.split(','), f = pfs.split(',');
      const i = a.findIndex((x, k) => Number(x) === 1 && Number(s[k]) === 1);
      const tshark: GrBits | undefined = rFlag === '' ? undefined : { restarted: bool(rFlag), ipv4F: i < 0 ? undefined : bool(f[i] ?? '') };
      // margay's decoder on the same segment's bytes (an OPEN may share its segment with another message)
      const bin = `${file.replace(/\.pcap$/, '')}-${node}-open-${frame}.bgp`;
      await writeFile(bin, Buffer.from(payload.replaceAll(':', ''), 'hex'));
      const dec = margay(['bgp', 'decode', bin], { timeoutMs: 30_000 });
      expect(dec.status, dec.stderr).toBe(0);
      const open = dec.stdout.split('\n').filter((x) => x !== '').map((x) => JSON.parse(x) as { type: string; capabilities?: GrJson[] }).find((m) => m.type === 'OPEN');
      const gr = open?.capabilities?.find((cap) => cap.name === 'GRACEFUL_RESTART');
      const fam = gr?.families.find((x) => x.afi === 1 && x.safi === 1);
      seen.push({ frame: Number(frame), margay: gr ? { restarted: gr.restarted, ipv4F: fam?.forwardingPreserved } : undefined, tshark });
    }
    return seen;
  };

  /** `node`'s first OPEN in the capture has the GR bits `want`, as margay's decoder and tshark read them. */
  const expectFirstOpen = async (file: string, node: string, want: GrBits): Promise<void> => {
    const opens = await opensFrom(file, node);
    expect(opens.length, `${node} sent an OPEN in the capture`).toBeGreaterThan(0);
    const first = opens[0] as SeenOpen;
    expect(first.margay, `${node}'s OPEN by margay's decoder, frame ${first.frame}`).toEqual(want);
    expect(first.tshark, `${node}'s OPEN by tshark, frame ${first.frame}`).toEqual(want);
  };

  it('first boot: n1\'s OPEN to n2 (and n2\'s answer) carry the GR capability with R=0 and F=0 for ipv4 unicast, by both decoders', async () => {
    const file = await startCapture('first-boot');
    await startAgents(c(), ['n1', 'n2']);
    await waitMeshedAndReady(c(), ['n1', 'n2'], 1, { timeoutMs: 30_000 });
    await stopCapture();
    await expectFirstOpen(file, 'n1', { restarted: false, ipv4F: false });
    // n2 answers before it programs routes (its gate waits for n1's End-of-RIB): nothing kept either
    await expectFirstOpen(file, 'n2', { restarted: false, ipv4F: false });
  }, 90_000);

  it('after a pod on n1 and a graceful restart of its agent, n1\'s new OPEN has R=1 and F=1; n2 (routes programmed, not restarting) R=0 and F=1', async () => {
    const l = c().lab;
    await c().addPod('n1', 'a');
    const block = (await waitFor(async () => (await c().status('n1')).blocks[0]?.cidr, 10_000, 'n1 block', 100)) as string;
    await waitFor(async () => (await margayRoutes(l, 'n1')).includes(`blackhole ${block}`), 10_000, 'n1 programs its block route', 100);
    const file = await startCapture('restart');
    await c().stopAgent('n1');
    // a graceful stop: the kernel keeps the route, which is what makes the next start a restart
    expect(await margayRoutes(l, 'n1')).toContain(`blackhole ${block}`);
    await startAgents(c(), ['n1']);
    await waitMeshedAndReady(c(), ['n1', 'n2'], 1, { timeoutMs: 30_000, what: 'meshed and ready again' });
    await stopCapture();
    expect((await agentLog(c(), 'n1')).some((x) => x.includes('starting as a restarting speaker'))).toBe(true);
    await expectFirstOpen(file, 'n1', { restarted: true, ipv4F: true });
    // n2 did not restart, but has programmed routes since its first sync: F without R
    await expectFirstOpen(file, 'n2', { restarted: false, ipv4F: true });
  }, 90_000);
});
