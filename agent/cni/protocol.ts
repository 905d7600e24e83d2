/**
 * The CNI protocol (SPEC.md 1.0.0, with 0.3.x/0.4.0 results), pure: the CNI_*
 * environment, the network configuration on stdin, results in the requested
 * version, prevResult merging for chains, and the VERSION answer.
 */
import { CniError } from './errors.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;
export const DEFAULT_SOCKET = '/run/margay/cni.sock';
export const DEFAULT_TIMEOUT_SECONDS = 60;

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns?: string;
  ifName: string;
  args: Record<string, string>;
  path?: string;
}

export interface CniInterface { name: string; mac?: string; sandbox?: string; mtu?: number }
export interface CniIp { address: string; gateway?: string; interface?: number }
export interface CniRoute { dst: string; gw?: string }
export interface CniDns { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] }
/** A result in the 1.0.0 shape (0.x results are converted on the way in and out). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIp[];
  routes?: CniRoute[];
  dns?: CniDns;
}

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  /** Unix socket of the local margay agent. */
  socket: string;
  mtu?: number;
  timeoutSeconds: number;
  prevResult?: CniResult;
}

type Env = Readonly<Record<string, string | undefined>>;

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function ifNameProblem(name: string): string | undefined {
  if (name.length > 15) return 'longer than 15 characters';
  if (name === '.' || name === '..') return 'is "." or ".."';
  if (/[/:\s]/.test(name)) return 'contains "/", ":" or whitespace';
  return undefined;
}

export function parseCniArgs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError('INVALID_ENV', `CNI_ARGS: "${pair}" is not KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Reads and checks the CNI_* variables; one error naming every bad variable. */
export function parseEnv(env: Env): CniEnv {
  const cmd = env.CNI_COMMAND ?? '';
  if (cmd === '') throw new CniError('INVALID_ENV', 'CNI_COMMAND is not set (expected ADD, DEL, CHECK or VERSION)');
  if (cmd !== 'ADD' && cmd !== 'DEL' && cmd !== 'CHECK' && cmd !== 'VERSION') {
    throw new CniError('INVALID_ENV', `CNI_COMMAND "${cmd}" is not supported by margay-cni (it speaks ADD, DEL, CHECK, VERSION of CNI ${SUPPORTED_VERSIONS.join(', ')})`);
  }
  if (cmd === 'VERSION') return { command: cmd, containerId: '', ifName: '', args: {} };
  const problems: string[] = [];
  const containerId = env.CNI_CONTAINERID ?? '';
  if (containerId === '') problems.push('CNI_CONTAINERID is not set');
  else if (!CONTAINER_ID.test(containerId)) problems.push(`CNI_CONTAINERID "${containerId}" must start with a letter or digit and hold only letters, digits, "_", "." and "-"`);
  const ifName = env.CNI_IFNAME ?? '';
  if (ifName === '') problems.push('CNI_IFNAME is not set');
  else {
    const p = ifNameProblem(ifName);
    if (p) problems.push(`CNI_IFNAME "${ifName}" is not a valid interface name (${p})`);
  }
  const netns = env.CNI_NETNS ?? '';
  if (netns === '' && cmd !== 'DEL') problems.push(`CNI_NETNS is not set (${cmd} needs the path of the pod's network namespace, e.g. /var/run/netns/NAME or /proc/PID/ns/net)`);
  else if (netns !== '' && !netns.startsWith('/')) problems.push(`CNI_NETNS "${netns}" is not an absolute path`);
  let args: Record<string, string> = {};
  try {
    args = parseCniArgs(env.CNI_ARGS ?? '');
  } catch (e) {
    problems.push((e as Error).message);
  }
  if (problems.length > 0) throw new CniError('INVALID_ENV', problems.join('; '));
  return {
    command: cmd, containerId, ifName, args,
    ...(netns !== '' ? { netns } : {}),
    ...(env.CNI_PATH ? { path: env.CNI_PATH } : {}),
  };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function checkVersion(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new CniError('INVALID_CONFIG', 'network config: "cniVersion" is missing');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(v)) {
    throw new CniError('INCOMPATIBLE_VERSION', `network config: cniVersion "${v}" is not supported; margay-cni supports ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  return v;
}

/** The network configuration on stdin as a JSON object; throws CniError(DECODE_FAILURE). */
export function netConfObject(text: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CniError('DECODE_FAILURE', `network config on stdin is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new CniError('DECODE_FAILURE', 'network config on stdin is not a JSON object');
  return raw;
}

/**
 * Parses the network configuration from stdin. `command` DEL: a prevResult that
 * does not parse is dropped, not an error — DEL does not use it (the spec lets
 * runtimes omit it there) and must complete.
 */
export function parseNetConf(text: string, command?: CniCommand): NetConf {
  const raw = netConfObject(text);
  const cniVersion = checkVersion(raw.cniVersion);
  const bad = (field: string, why: string): never => { throw new CniError('INVALID_CONFIG', `network config: "${field}" ${why}`); };
  if (typeof raw.name !== 'string' || raw.name === '') bad('name', 'must be a non-empty string');
  if (typeof raw.type !== 'string' || raw.type === '') bad('type', 'must be a non-empty string');
  const socket = raw.socket ?? DEFAULT_SOCKET;
  if (typeof socket !== 'string' || !socket.startsWith('/')) bad('socket', 'must be an absolute path to the agent\'s unix socket');
  if (raw.mtu !== undefined && (!Number.isInteger(raw.mtu) || (raw.mtu as number) < 576 || (raw.mtu as number) > 65535)) bad('mtu', 'must be an integer in 576..65535');
  const timeout = raw.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  if (typeof timeout !== 'number' || !(timeout > 0)) bad('timeoutSeconds', 'must be a positive number');
  const prevResult = raw.prevResult === undefined ? undefined : readPrevResult(raw.prevResult, cniVersion, command);
  return {
    cniVersion, name: raw.name as string, type: raw.type as string, socket: socket as string,
    timeoutSeconds: timeout as number,
    ...(raw.mtu !== undefined ? { mtu: raw.mtu as number } : {}),
    ...(prevResult ? { prevResult } : {}),
  };
}

/**
 * A prevResult (any value from a config or an older plugin's request), normalized;
 * CniError(INVALID_CONFIG) naming the field when malformed — undefined instead on DEL.
 */
export function readPrevResult(v: unknown, cniVersion: string, command?: CniCommand): CniResult | undefined {
  try {
    if (!isObject(v)) throw new CniError('INVALID_CONFIG', 'network config: "prevResult" must be an object');
    return normalizeResult(v, cniVersion);
  } catch (e) {
    if (command === 'DEL' && e instanceof CniError) return undefined;
    throw e;
  }
}

/** The entries of prevResult's list `field` (null or absent: none), each an object with the string `key` if given. */
function resultList(obj: Record<string, unknown>, field: string, key?: string): Record<string, unknown>[] | undefined {
  const list = obj[field];
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list)) throw new CniError('INVALID_CONFIG', `network config: "prevResult.${field}" must be an array`);
  return list.map((x: unknown, i) => {
    if (!isObject(x) || (key !== undefined && typeof x[key] !== 'string')) {
      const what = key === undefined ? 'an object' : `an object with ${/^[aeiou]/.test(key) ? 'an' : 'a'} "${key}" string`;
      throw new CniError('INVALID_CONFIG', `network config: "prevResult.${field}[${i}]" must be ${what}`);
    }
    return x;
  });
}

/**
 * A result of any supported version in the 1.0.0 shape (0.x `ips[].version`
 * dropped). Checks what ADD's merge and CHECK read: the lists' entries are
 * objects, ips[] have an address, routes[] a dst; CniError(INVALID_CONFIG) else.
 */
export function normalizeResult(obj: Record<string, unknown>, cniVersion: string): CniResult {
  const out: CniResult = { cniVersion };
  const interfaces = resultList(obj, 'interfaces');
  const ips = resultList(obj, 'ips', 'address');
  const routes = resultList(obj, 'routes', 'dst');
  if (interfaces) out.interfaces = interfaces as unknown as CniInterface[];
  if (ips) {
    out.ips = ips.map((ip) => {
      const { version: _version, ...rest } = ip;
      return rest as unknown as CniIp;
    });
  }
  if (routes) out.routes = routes as unknown as CniRoute[];
  if (isObject(obj.dns)) out.dns = obj.dns as CniDns;
  return out;
}

/** The result as the requested version prints it (0.3.x/0.4.0 carry ips[].version). */
export function formatResult(r: CniResult, cniVersion: string): Record<string, unknown> {
  const out: Record<string, unknown> = { cniVersion };
  out.interfaces = r.interfaces ?? [];
  out.ips = (r.ips ?? []).map((ip) => (cniVersion === '1.0.0' ? ip : { version: ip.address.includes(':') ? '6' : '4', ...ip }));
  out.routes = r.routes ?? [];
  out.dns = r.dns ?? {};
  return out;
}

/** Appends this plugin's result to the previous one (interface indices shifted). */
export function mergeResults(prev: CniResult | undefined, mine: CniResult): CniResult {
  if (!prev) return mine;
  const base = prev.interfaces?.length ?? 0;
  const routes = [...(prev.routes ?? [])];
  for (const r of mine.routes ?? []) if (!routes.some((x) => x.dst === r.dst && x.gw === r.gw)) routes.push(r);
  return {
    cniVersion: mine.cniVersion,
    interfaces: [...(prev.interfaces ?? []), ...(mine.interfaces ?? [])],
    ips: [...(prev.ips ?? []), ...(mine.ips ?? []).map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + base }))],
    routes,
    dns: prev.dns ?? mine.dns ?? {},
  };
}

/** The VERSION answer. */
export function versionResult(requested: string | undefined): Record<string, unknown> {
  return { cniVersion: requested ?? '1.0.0', supportedVersions: [...SUPPORTED_VERSIONS] };
}
