/**
 * `margay lab up --route-reflector NODE` and `--tor bird` end to end on the command
 * line: the lab comes up with agents (and BIRD) running detached, the topology is
 * the one asked for, and `margay lab down` stops every process and namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteNetns, listNetns } from '../../../agent/lab/netns.js';
import { isRecordedProcessAlive } from '../../../agent/lab/processes.js';
import { readLabState } from '../../../agent/lab/state.js';
import { ExecError, run } from '../../../agent/lab/exec.js';
import { margay, MARGAY_JS } from '../../support/cli.js';
import { needsRoot, ROOT_SKIP_REASON } from '../../support/root.js';
import { waitFor } from '../../support/daemons/common.js';

describe('margay lab up topology flags: usage errors (no root needed)', () => {
  it.each([
    [['--tor', 'frr'], /--tor/],
    [['--route-reflector', 'n1', '--tor', 'bird'], /exclude each other/],
    [['--nodes', '2', '--route-reflector', 'n3'], /nodes n1\.\.n2/],
    [['--route-reflector', 'web'], /must name a node/],
    [['--tor', 'bird', '--pods', '1'], /margay-cni/],
  ])('lab up %j → exit 2', (args, message) => {
    const r = margay(['lab', 'up', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

describe.skipIf(needsRoot)(`margay lab up --route-reflector / --tor bird (${ROOT_SKIP_REASON})`, () => {
  let stateRoot = '';
  const env = () => ({ MARGAY_LAB_STATE_DIR: stateRoot });
  const leftovers: string[] = [];
  beforeAll(async () => { stateRoot = await mkdtemp(join(tmpdir(), 'margay-topo-cli-')); });
  afterAll(async () => {
    for (const p of leftovers) margay(['lab', 'down', '--prefix', p], { env: env() });
    const all = await listNetns();
    for (const p of leftovers) for (const ns of all.filter((n) => n.startsWith(`${p}-`))) await deleteNetns(ns);
    await rm(stateRoot, { recursive: true, force: true });
  }, 60_000);

  let last = '';
  /** `margay status --json` of a node, run inside its namespace. */
  async function status(ns: string, socket: string): Promise<{ peers: { address: string; type: string; fsm: string }[] } | undefined> {
    try {
      const r = await run(['ip', 'netns', 'exec', ns, process.execPath, MARGAY_JS, 'status', '--json', '--socket', socket], { timeoutMs: 10_000 });
      return JSON.parse(r.stdout) as { peers: { address: string; type: string; fsm: string }[] };
    } catch (err) {
      if (err instanceof ExecError) { last = err.message; return undefined; }
      throw err;
    }
  }

  it('--route-reflector n1: agents run detached, n1 reflects for n2 and n3, lab down stops them all', async () => {
    const up = margay(['lab', 'up', '--nodes', '3', '--route-reflector', 'n1'], { env: env(), timeoutMs: 90_000 });
    expect(up.status, up.stderr).toBe(0);
    const id = /lab (mg[0-9a-z]+):/.exec(up.stdout)?.[1] as string;
    expect(id).toBeDefined();
    leftovers.push(id);
    expect(up.stdout).toContain('topology: route-reflector, node-to-node mesh off');
    const state = await readLabState(stateRoot, id);
    expect(state?.processes.map((p) => p.name).sort()).toEqual(['agent-n1', 'agent-n2', 'agent-n3']);
    const topology = await readFile(join(stateRoot, id, 'datastore', 'topology.yaml'), 'utf8');
    expect(topology).toContain('nodeToNodeMeshEnabled: false');
    const sock = (n: string) => join(stateRoot, id, 'run', n, 'agent.sock');
    const rr = await waitFor('n1 reflecting', async () => {
      const s = await status(`${id}-n1`, sock('n1'));
      return s && s.peers.length === 2 && s.peers.every((p) => p.fsm === 'Established' && p.type === 'route reflector') ? s : undefined;
    }, 40_000, 250).catch(async (err: Error) => {
      const log = await readFile(join(stateRoot, id, 'agent-n1.log'), 'utf8').catch(() => '(no log)');
      const alive = (state?.processes ?? []).map((p) => `${p.name} ${isRecordedProcessAlive(p) ? 'running' : 'gone'}`).join(', ');
      throw new Error(`${err.message}; last status error: ${last}; agents: ${alive}; socket ${existsSync(sock('n1')) ? 'exists' : 'missing'}; agent-n1.log ends: ${log.slice(-1500)}`);
    });
    expect(rr.peers.map((p) => p.address)).toEqual(['172.30.0.12', '172.30.0.13']);
    const client = await status(`${id}-n3`, sock('n3'));
    expect(client?.peers.map((p) => p.address)).toEqual(['172.30.0.11']);

    const down = margay(['lab', 'down', '--prefix', id], { env: env() });
    expect(down.status, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/stopped 3 processes/);
    for (const p of state?.processes ?? []) expect(isRecordedProcessAlive(p)).toBe(false);
    expect((await listNetns()).filter((n) => n.startsWith(`${id}-`))).toEqual([]);
  }, 120_000);

  it('--tor bird on a routed fabric: BIRD in the fabric namespace peers with every node from its subnet\'s gateway, lab down stops BIRD too', async () => {
    const up = margay(['lab', 'up', '--nodes', '3', '--fabric', 'routed', '--tor', 'bird'], { env: env(), timeoutMs: 90_000 });
    expect(up.status, up.stderr).toBe(0);
    const id = /lab (mg[0-9a-z]+):/.exec(up.stdout)?.[1] as string;
    leftovers.push(id);
    expect(up.stderr).toMatch(/top-of-rack BIRD in mg[0-9a-z]+-fabric \(AS 65000\)/);
    const state = await readLabState(stateRoot, id);
    const bird = state?.processes.find((p) => p.name === 'tor-bird');
    expect(bird?.ns).toBe(`${id}-fabric`);
    const birdSock = join(stateRoot, id, 'tor-bird', 'bird.ctl');
    expect(existsSync(birdSock)).toBe(true);
    await waitFor('BIRD sessions', async () => {
      const out = (await run(['birdc', '-s', birdSock, 'show', 'protocols'])).stdout;
      return (out.match(/Established/g) ?? []).length === 3;
    }, 40_000, 250);
    const n2 = await waitFor('n2 session', async () => {
      const st = await status(`${id}-n2`, join(stateRoot, id, 'run', 'n2', 'agent.sock'));
      return st?.peers[0]?.fsm === 'Established' ? st : undefined;
    }, 20_000, 250);
    expect(n2.peers.map((p) => p.address)).toEqual(['172.30.2.1']);
    // (no pods yet, so no blocks: agents-topology.test.ts checks BIRD learning every block)
    const n1 = (await run(['birdc', '-s', birdSock, 'show', 'protocols', 'all', 'node_n1'])).stdout;
    expect(n1).toMatch(/Neighbor address:\s+172\.30\.1\.11/);
    expect(n1).toMatch(/Neighbor AS:\s+64512/);
    const down = margay(['lab', 'down', '--prefix', id], { env: env() });
    expect(down.status, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/stopped 4 processes/);
    for (const p of state?.processes ?? []) expect(isRecordedProcessAlive(p)).toBe(false);
  }, 120_000);
});
