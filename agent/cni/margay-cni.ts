#!/usr/bin/env node
/**
 * margay-cni: the CNI plugin executable (CNI spec 1.0.0; 0.3.x/0.4.0 results when
 * the config asks). A thin client: it checks the CNI_* environment and the network
 * config, answers VERSION itself, and hands ADD/DEL/CHECK to the local margay agent
 * over a unix socket (netconf "socket", default /run/margay/cni.sock). Errors are
 * printed on stdout in the spec's JSON form and the exit code is 1.
 * Kept small on purpose (no logger, no IPAM code): process start is most of an ADD.
 * MARGAY_CNI_TIMING=1 prints on stderr the agent's share of the time, this process's
 * stages (ms since its start: modules loaded, connected, answered, done) and its CPU ms.
 */
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { CniError } from './errors.js';
import { formatResult, mergeResults, parseEnv, parseNetConf, versionResult, type CniEnv, type NetConf } from './protocol.js';
import { decodeResponse, WIRE_VERSION, type AgentRequest, type AgentResponse } from './wire.js';

/** Milliseconds since process start (performance.timeOrigin) at each stage, for MARGAY_CNI_TIMING. */
const stages: Record<string, number> = { loaded: performance.now() };

function callAgent(socket: string, req: AgentRequest, timeoutMs: number): Promise<AgentResponse> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new CniError('TRY_AGAIN_LATER', `the margay agent at ${socket} did not answer ${req.command} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => { stages.connected = performance.now(); c.write(`${JSON.stringify(req)}\n`); });
    c.on('data', (d: string) => { buf += d; });
    c.on('end', () => {
      stages.answered = performance.now();
      clearTimeout(timer);
      try {
        resolve(decodeResponse(buf.trim()));
      } catch (e) {
        reject(e);
      }
    });
    c.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
        const why = e.code === 'ENOENT' ? 'there is no socket' : 'nothing listens on the socket';
        reject(new CniError('TRY_AGAIN_LATER', `the margay agent is not running on this node: ${why} at ${socket} (is the margay agent pod running?)`, e.message));
      } else {
        reject(new CniError('IO_FAILURE', `talking to the margay agent at ${socket} failed: ${e.message}`));
      }
    });
  });
}

async function main(): Promise<number> {
  let version = '1.0.0';
  try {
    let stdin = '';
    try {
      stdin = readFileSync(0, 'utf8');
    } catch (e) {
      throw new CniError('IO_FAILURE', `reading the network config from stdin failed: ${(e as Error).message}`);
    }
    const env: CniEnv = parseEnv(process.env);
    if (env.command === 'VERSION') {
      let requested: string | undefined;
      try {
        const v = (JSON.parse(stdin || '{}') as { cniVersion?: unknown }).cniVersion;
        requested = typeof v === 'string' ? v : undefined;
      } catch {
        requested = undefined;
      }
      process.stdout.write(`${JSON.stringify(versionResult(requested))}\n`);
      return 0;
    }
    const conf: NetConf = parseNetConf(stdin);
    version = conf.cniVersion;
    if (env.command === 'CHECK' && (version === '0.3.0' || version === '0.3.1')) {
      throw new CniError('INCOMPATIBLE_VERSION', `CHECK needs cniVersion 0.4.0 or later, the config says ${version}`);
    }
    const req: AgentRequest = {
      v: WIRE_VERSION, command: env.command, containerId: env.containerId, ifName: env.ifName, args: env.args,
      network: conf.name, cniVersion: version,
      ...(env.netns ? { netns: env.netns } : {}),
      ...(conf.mtu ? { mtu: conf.mtu } : {}),
      ...(conf.prevResult ? { prevResult: conf.prevResult } : {}),
    };
    const resp = await callAgent(conf.socket, req, conf.timeoutSeconds * 1000);
    if (process.env.MARGAY_CNI_TIMING) {
      const cpu = process.cpuUsage();
      process.stderr.write(`${JSON.stringify({ agentMs: resp.agentMs, ...stages, done: performance.now(), cpu: (cpu.user + cpu.system) / 1000 })}\n`);
    }
    if (!resp.ok) {
      process.stdout.write(`${JSON.stringify({ cniVersion: version, ...resp.error })}\n`);
      return 1;
    }
    if (env.command === 'ADD') {
      if (!resp.result) throw new CniError('AGENT_PROTOCOL', 'the margay agent answered ADD without a result');
      process.stdout.write(`${JSON.stringify(formatResult(mergeResults(conf.prevResult, resp.result), version))}\n`);
    }
    return 0;
  } catch (e) {
    const err = e instanceof CniError ? e : new CniError('AGENT_INTERNAL', `margay-cni: ${e instanceof Error ? e.message : String(e)}`);
    process.stdout.write(`${JSON.stringify(err.toJson(version))}\n`);
    return 1;
  }
}

// Whatever happens, the runtime gets an answer in the spec's form.
process.on('uncaughtException', (e) => {
  process.stdout.write(`${JSON.stringify(new CniError('AGENT_INTERNAL', `margay-cni crashed: ${e.message}`, e.stack).toJson('1.0.0'))}\n`);
  process.exit(1);
});

// Exit at once: Node's orderly teardown after the loop drains costs ~1 ms, and
// stdout/stderr writes to pipes and files are synchronous on Linux.
process.exit(await main());
