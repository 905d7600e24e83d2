/**
 * margay-cni ⇄ agent messages over the unix socket: one JSON request line, one
 * JSON response line, then the agent closes. Pure types and checks.
 */
import { CniError, type CniErrorCode } from './errors.js';
import type { CniResult } from './protocol.js';

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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Agent side: validates a request line; throws CniError(DECODE_FAILURE / INVALID_ENV). */
export function decodeRequest(line: string): AgentRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new CniError('DECODE_FAILURE', 'agent: request is not JSON');
  }
  if (!isObject(v) || v.v !== WIRE_VERSION) throw new CniError('AGENT_PROTOCOL', `agent: request is not margay-cni wire version ${WIRE_VERSION} (mismatched margay-cni and agent versions?)`);
  if (v.command !== 'ADD' && v.command !== 'DEL' && v.command !== 'CHECK') throw new CniError('INVALID_ENV', `agent: unknown command ${String(v.command)}`);
  for (const k of ['containerId', 'ifName', 'network', 'cniVersion'] as const) {
    if (typeof v[k] !== 'string' || v[k] === '') throw new CniError('INVALID_ENV', `agent: request field ${k} is missing`);
  }
  if (v.netns !== undefined && typeof v.netns !== 'string') throw new CniError('INVALID_ENV', 'agent: request field netns is not a string');
  if (!isObject(v.args)) throw new CniError('INVALID_ENV', 'agent: request field args is not an object');
  return v as unknown as AgentRequest;
}

/** Plugin side: validates the response line; throws CniError(AGENT_PROTOCOL). */
export function decodeResponse(line: string): AgentResponse {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new CniError('AGENT_PROTOCOL', 'the margay agent sent a reply that is not JSON');
  }
  if (!isObject(v) || typeof v.ok !== 'boolean') throw new CniError('AGENT_PROTOCOL', 'the margay agent sent a reply without "ok"');
  if (v.ok === false && (!isObject(v.error) || typeof v.error.code !== 'number' || typeof v.error.msg !== 'string')) {
    throw new CniError('AGENT_PROTOCOL', 'the margay agent sent an error reply without code and msg');
  }
  return v as unknown as AgentResponse;
}
