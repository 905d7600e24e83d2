#!/usr/bin/env node
/**
 * margay-cni in Node: the fallback plugin executable, for where the Go one
 * (agent/cni/go, built to dist/bin/margay-cni) was not built. It behaves exactly
 * as the Go client does, and is as thin: it answers VERSION itself, finds the
 * agent's socket and timeout in the network config, and forwards the CNI_*
 * environment and stdin verbatim to the local margay agent (wire.ts, raw form);
 * the agent parses, validates and formats, and this prints what the agent
 * answers with its exit code. Errors of its own (agent not running, timeout, the
 * connection closed without an answer, a reply it cannot read) are printed in the spec's JSON form, exit code 1.
 * MARGAY_CNI_TIMING=1 prints on stderr the agent's share of the time, this
 * process's stages (ms since its start: modules loaded, connected, answered,
 * done) and its CPU ms.
 */
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { CniError } from './errors.js';
import { clientConf, closedWithoutAnswer, decodeRawResponse, RAW_WIRE_VERSION, versionAnswer, type RawRequest } from './wire.js';

/** Milliseconds since process start (performance.timeOrigin) at each stage, for MARGAY_CNI_TIMING. */
const stages: Record<string, number> = { loaded: performance.now() };

function callAgent(socket: string, req: RawRequest, timeoutMs: number): Promise<string> {
  const command = req.env.CNI_COMMAND ?? '';
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let buf = '';
    // setTimeout takes at most 2^31-1 ms (a larger delay fires at once)
    const timer = setTimeout(() => {
      c.destroy();
      reject(new CniError('TRY_AGAIN_LATER', `the margay agent at ${socket} did not answer ${command} within ${timeoutMs / 1000} s`));
    }, Math.min(timeoutMs, 2 ** 31 - 1));
    c.setEncoding('utf8');
    c.on('connect', () => { stages.connected = performance.now(); c.write(`${JSON.stringify(req)}\n`); });
    c.on('data', (d: string) => { buf += d; });
    c.on('end', () => {
      stages.answered = performance.now();
      clearTimeout(timer);
      if (buf === '') reject(closedWithoutAnswer(socket, command));
      else resolve(buf.trim());
    });
    c.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
        const why = e.code === 'ENOENT' ? 'there is no socket' : 'nothing listens on the socket';
        reject(new CniError('TRY_AGAIN_LATER', `the margay agent is not running on this node: ${why} at ${socket} (is the margay agent pod running?)`, e.message));
      } else if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
        reject(closedWithoutAnswer(socket, command, e.message));
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
    if (process.env.CNI_COMMAND === 'VERSION') {
      process.stdout.write(versionAnswer(stdin));
      return 0;
    }
    const conf = clientConf(stdin);
    version = conf.cniVersion;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith('CNI_') && v !== undefined) env[k] = v;
    const reply = await callAgent(conf.socket, { v: RAW_WIRE_VERSION, env, stdin }, conf.timeoutSeconds * 1000);
    const resp = decodeRawResponse(reply);
    if ('error' in resp) {
      process.stdout.write(`${JSON.stringify({ cniVersion: version, ...resp.error })}\n`);
      return 1;
    }
    if (process.env.MARGAY_CNI_TIMING) {
      const cpu = process.cpuUsage();
      process.stderr.write(`${JSON.stringify({ client: 'node', agentMs: resp.agentMs, ...stages, done: performance.now(), cpu: (cpu.user + cpu.system) / 1000, ...(resp.agentStages ? { agentStages: resp.agentStages } : {}) })}\n`);
    }
    process.stdout.write(resp.stdout);
    return resp.exit;
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
