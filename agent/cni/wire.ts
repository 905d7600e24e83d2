/**
 * margay-cni ⇄ agent messages over the unix socket: one JSON request line, one
 * JSON response line, then the agent closes. Pure types and checks.
 * Two forms: the raw form (v 2, below) that today's plugins send, and the
 * structured form (v 1) that plugins before it sent — still answered, so that a
 * plugin left on a host by an older install keeps working against a newer agent.
 */
import { CniError, type CniErrorCode } from './errors.js';
import {
  DEFAULT_SOCKET, DEFAULT_TIMEOUT_SECONDS, formatResult, isObject, mergeResults, netConfObject, parseEnv, parseNetConf, readPrevResult, SUPPORTED_VERSIONS, versionResult,
  type CniEnv, type CniResult, type NetConf,
} from './protocol.js';

export const WIRE_VERSION = 1;

export interface AgentRequest {
  v: typeof WIRE_VERSION;
  command: 'ADD' | 'DEL' | 'CHECK';
  containerId: string;
  netns?: string;
  ifName: string;
  args: Record<string, string>;
  network: string;
  cniVersion: string;
  mtu?: number;
  prevResult?: CniResult;
}

export type AgentResponse =
  | { ok: true; result?: CniResult; agentMs: number }
  | { ok: false; error: { code: CniErrorCode; msg: string; details?: string }; agentMs: number };

function requestJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new CniError('DECODE_FAILURE', 'agent: request is not JSON');
  }
}

/** Agent side: validates a request line; throws CniError(DECODE_FAILURE / INVALID_ENV). */
export function decodeRequest(line: string): AgentRequest {
  const v = requestJson(line);
  if (!isObject(v) || v.v !== WIRE_VERSION) throw new CniError('AGENT_PROTOCOL', `agent: request is not margay-cni wire version ${WIRE_VERSION} or ${RAW_WIRE_VERSION} (mismatched margay-cni and agent versions?)`);
  if (v.command !== 'ADD' && v.command !== 'DEL' && v.command !== 'CHECK') throw new CniError('INVALID_ENV', `agent: unknown command ${String(v.command)}`);
  for (const k of ['containerId', 'ifName', 'network', 'cniVersion'] as const) {
    if (typeof v[k] !== 'string' || v[k] === '') throw new CniError('INVALID_ENV', `agent: request field ${k} is missing`);
  }
  if (v.netns !== undefined && typeof v.netns !== 'string') throw new CniError('INVALID_ENV', 'agent: request field netns is not a string');
  if (!isObject(v.args)) throw new CniError('INVALID_ENV', 'agent: request field args is not an object');
  // the older plugin parsed the config itself: its prevResult gets the same checks (dropped on DEL when bad)
  if (v.prevResult !== undefined) {
    const { prevResult, ...rest } = v;
    const read = readPrevResult(prevResult, v.cniVersion as string, v.command);
    return { ...rest, ...(read ? { prevResult: read } : {}) } as unknown as AgentRequest;
  }
  return v as unknown as AgentRequest;
}

// ---------------------------------------------------------------------------
// The raw form (wire version 2): the plugin forwards what the runtime gave it —
// the CNI_* environment and stdin, verbatim — and prints what the agent answers.
// All CNI parsing, validation and result formatting stays here, in one place;
// the plugin (Go, agent/cni/go/main.go, or margay-cni.ts) only finds the socket.

export const RAW_WIRE_VERSION = 2;

export interface RawRequest {
  v: typeof RAW_WIRE_VERSION;
  /** the CNI_* variables the plugin was started with */
  env: Record<string, string>;
  /** the network configuration exactly as read from stdin */
  stdin: string;
}

/** What the plugin prints on stdout (verbatim) and its exit code. */
export interface RawResponse {
  v: typeof RAW_WIRE_VERSION;
  exit: 0 | 1;
  stdout: string;
  agentMs: number;
  /** where agentMs went, when the agent was asked to tell (stages.ts) */
  agentStages?: Record<string, number>;
}

export type DecodedRequest = { form: 'raw'; req: RawRequest } | { form: 'structured'; req: AgentRequest };

/** Agent side: either form; throws CniError like decodeRequest. */
export function decodeAnyRequest(line: string): DecodedRequest {
  const v = requestJson(line);
  if (isObject(v) && v.v === RAW_WIRE_VERSION) {
    if (!isObject(v.env) || Object.values(v.env).some((x) => typeof x !== 'string')) throw new CniError('AGENT_PROTOCOL', 'agent: raw request field env is not an object of strings');
    if (typeof v.stdin !== 'string') throw new CniError('AGENT_PROTOCOL', 'agent: raw request field stdin is not a string');
    return { form: 'raw', req: v as unknown as RawRequest };
  }
  return { form: 'structured', req: decodeRequest(line) };
}

/** A raw request parsed: either answered already (VERSION, bad input) or work for the handler. */
export type RawPlan =
  | { kind: 'answer'; exit: 0 | 1; stdout: string }
  | { kind: 'work'; req: AgentRequest; conf: NetConf };

const outLine = (v: unknown): string => `${JSON.stringify(v)}\n`;

/** The spec's error output for `e` (anything thrown), in `cniVersion`. */
export function rawError(e: unknown, cniVersion: string): { kind: 'answer'; exit: 1; stdout: string } {
  const err = e instanceof CniError ? e : new CniError('AGENT_INTERNAL', `agent: ${e instanceof Error ? e.message : String(e)}`);
  return { kind: 'answer', exit: 1, stdout: outLine(err.toJson(cniVersion)) };
}

/** The VERSION answer for whatever stdin holds (its cniVersion if it is a string). */
export function versionAnswer(stdin: string): string {
  let requested: string | undefined;
  try {
    const v = (JSON.parse(stdin || '{}') as { cniVersion?: unknown } | null)?.cniVersion;
    requested = typeof v === 'string' ? v : undefined;
  } catch {
    requested = undefined;
  }
  return outLine(versionResult(requested));
}

/** Parses a raw request exactly as the Node plugin did in-process: env first, then the config. */
export function planRaw(raw: RawRequest): RawPlan {
  let version = '1.0.0';
  try {
    const env: CniEnv = parseEnv(raw.env);
    if (env.command === 'VERSION') return { kind: 'answer', exit: 0, stdout: versionAnswer(raw.stdin) };
    const conf = parseNetConf(raw.stdin, env.command);
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
    return { kind: 'work', req, conf };
  } catch (e) {
    return rawError(e, version);
  }
}

/** The plugin's output once the handler is done: ADD prints the (merged) result, DEL/CHECK nothing. */
export function finishRaw(plan: { req: AgentRequest; conf: NetConf }, result: CniResult | undefined): { exit: 0 | 1; stdout: string } {
  if (plan.req.command !== 'ADD') return { exit: 0, stdout: '' };
  if (!result) return rawError(new CniError('AGENT_INTERNAL', 'agent: ADD produced no result'), plan.conf.cniVersion);
  return { exit: 0, stdout: outLine(formatResult(mergeResults(plan.conf.prevResult, result), plan.conf.cniVersion)) };
}

/**
 * Plugin side: the two netconf fields the plugin itself needs (and the version
 * its own errors are printed in). Mirrored by agent/cni/go/main.go (clientConf).
 */
export interface ClientConf { socket: string; timeoutSeconds: number; cniVersion: string }

export function clientConf(stdin: string): ClientConf {
  const raw = netConfObject(stdin);
  const v = raw.cniVersion;
  const cniVersion = typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v) ? v : '1.0.0';
  const socket = raw.socket ?? DEFAULT_SOCKET;
  if (typeof socket !== 'string' || !socket.startsWith('/')) throw new CniError('INVALID_CONFIG', 'network config: "socket" must be an absolute path to the agent\'s unix socket');
  const timeout = raw.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (typeof timeout !== 'number' || !(timeout > 0)) throw new CniError('INVALID_CONFIG', 'network config: "timeoutSeconds" must be a positive number');
  return { socket, timeoutSeconds: timeout, cniVersion };
}

/**
 * Plugin side: the agent closed the connection (no byte, or a reset) without an
 * answer — it stopped with the request in flight, as on a restart. Transient (11),
 * so the runtime retries; a reply that is there but unreadable is 105.
 */
export function closedWithoutAnswer(socket: string, command: string, details?: string): CniError {
  return new CniError('TRY_AGAIN_LATER', `the margay agent at ${socket} closed the connection without answering ${command} (is it restarting?)`, details);
}

/** Plugin side: checks the agent's answer to a raw request; throws CniError(AGENT_PROTOCOL). */
export function decodeRawResponse(text: string): RawResponse | { error: { code: number; msg: string; details?: string } } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CniError('AGENT_PROTOCOL', 'the margay agent sent a reply that is not JSON');
  }
  if (!isObject(v)) throw new CniError('AGENT_PROTOCOL', 'the margay agent sent a reply that is not a JSON object');
  // an agent that predates the raw form answers in the structured form (code 105)
  if (v.ok === false && isObject(v.error) && typeof v.error.code === 'number' && typeof v.error.msg === 'string') {
    return { error: v.error as { code: number; msg: string; details?: string } };
  }
  if ((v.exit !== 0 && v.exit !== 1) || typeof v.stdout !== 'string') throw new CniError('AGENT_PROTOCOL', 'the margay agent sent a reply without "exit" and "stdout"');
  return v as unknown as RawResponse;
}
