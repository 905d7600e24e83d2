/**
 * Validation and normalisation of one NetworkPolicy object (networking.k8s.io/v1),
 * following the API server's rules (pkg/apis/networking/validation): every error
 * names the field path, e.g. `spec.ingress[0].from[1].ipBlock.except[0]`. An invalid
 * policy yields errors and no Policy; callers drop it and keep enforcing the rest.
 *
 * `validatePolicyCached` memoises per object identity (a WeakMap, the module's only
 * state): the agent validates every policy on every pass, and a datastore snapshot
 * keeps the same object for an unchanged policy. The result is shared: read-only.
 */
import { cidrContains, parseCidr } from './cidr.js';
import { PROTOCOLS, type LabelSelector, type Peer, type Policy, type PortSpec, type Protocol, type Rule, type SelectorRequirement } from './types.js';
import { perObject } from './per-object.js';

export interface FieldError {
  path: string;
  message: string;
}

export type Validated = { ok: true; policy: Policy } | { ok: false; errors: FieldError[]; name: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Errs {
  list: FieldError[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

/** IANA_SVC_NAME as Kubernetes validates a named port. */
export function isPortName(s: string): boolean {
  return s.length >= 1 && s.length <= 15 && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s) && /[a-z]/.test(s) && !s.includes('--');
}

function arrayAt(v: unknown, path: string, e: Errs): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    e.add(path, 'must be a list');
    return undefined;
  }
  return v;
}

export function validateSelector(v: unknown, path: string, e: Errs): LabelSelector {
  const sel: LabelSelector = { matchLabels: {}, matchExpressions: [] };
  if (v === undefined || v === null) return sel;
  if (!isObj(v)) {
    e.add(path, 'must be a label selector object');
    return sel;
  }
  if (v.matchLabels !== undefined && v.matchLabels !== null) {
    if (!isObj(v.matchLabels)) e.add(`${path}.matchLabels`, 'must be a map of strings');
    else {
      for (const [k, val] of Object.entries(v.matchLabels)) {
        if (typeof val !== 'string') e.add(`${path}.matchLabels.${k}`, 'must be a string');
        else sel.matchLabels[k] = val;
      }
    }
  }
  const exprs = arrayAt(v.matchExpressions, `${path}.matchExpressions`, e) ?? [];
  exprs.forEach((x, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!isObj(x)) return e.add(p, 'must be an object');
    if (typeof x.key !== 'string' || x.key === '') return e.add(`${p}.key`, 'required');
    const op = x.operator;
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist') {
      return e.add(`${p}.operator`, `unsupported operator ${JSON.stringify(op)}: must be In, NotIn, Exists or DoesNotExist`);
    }
    const values = arrayAt(x.values, `${p}.values`, e) ?? [];
    if (values.some((s) => typeof s !== 'string')) return e.add(`${p}.values`, 'must be strings');
    if ((op === 'In' || op === 'NotIn') && values.length === 0) return e.add(`${p}.values`, `must be specified when operator is ${op}`);
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) return e.add(`${p}.values`, `may not be specified when operator is ${op}`);
    const req: SelectorRequirement = { key: x.key, operator: op, values: values as string[] };
    sel.matchExpressions.push(req);
  });
  return sel;
}

function validatePeer(v: unknown, path: string, e: Errs): Peer | undefined {
  if (!isObj(v)) {
    e.add(path, 'must be an object');
    return undefined;
  }
  const has = (k: string): boolean => v[k] !== undefined && v[k] !== null;
  if (has('ipBlock')) {
    if (has('podSelector') || has('namespaceSelector')) {
      e.add(path, 'may not specify more than 1 peer type: ipBlock cannot be combined with podSelector or namespaceSelector');
      return undefined;
    }
    const b = v.ipBlock;
    if (!isObj(b)) {
      e.add(`${path}.ipBlock`, 'must be an object');
      return undefined;
    }
    if (typeof b.cidr !== 'string' || b.cidr === '') {
      e.add(`${path}.ipBlock.cidr`, 'required');
      return undefined;
    }
    const cidr = parseCidr(b.cidr);
    if (!cidr) {
      e.add(`${path}.ipBlock.cidr`, `invalid CIDR ${JSON.stringify(b.cidr)}`);
      return undefined;
    }
    const except: string[] = [];
    const ex = arrayAt(b.except, `${path}.ipBlock.except`, e) ?? [];
    let bad = false;
    ex.forEach((x, i) => {
      const p = `${path}.ipBlock.except[${i}]`;
      const c = typeof x === 'string' ? parseCidr(x) : undefined;
      if (!c) {
        e.add(p, `invalid CIDR ${JSON.stringify(x)}`);
        bad = true;
      } else if (!cidrContains(cidr, c) || c.prefix <= cidr.prefix) {
        e.add(p, `must be a strict subset of cidr ${b.cidr}`);
        bad = true;
      } else except.push(x as string);
    });
    return bad ? undefined : { kind: 'ipBlock', cidr: b.cidr, except };
  }
  if (!has('podSelector') && !has('namespaceSelector')) {
    e.add(path, 'must specify a peer: podSelector, namespaceSelector or ipBlock');
    return undefined;
  }
  const peer: Peer = { kind: 'pods' };
  if (has('podSelector')) peer.podSelector = validateSelector(v.podSelector, `${path}.podSelector`, e);
  if (has('namespaceSelector')) peer.namespaceSelector = validateSelector(v.namespaceSelector, `${path}.namespaceSelector`, e);
  return peer;
}

function validatePort(v: unknown, path: string, e: Errs): PortSpec | undefined {
  if (!isObj(v)) {
    e.add(path, 'must be an object');
    return undefined;
  }
  let protocol: Protocol = 'TCP';
  if (v.protocol !== undefined && v.protocol !== null) {
    if (!(PROTOCOLS as readonly unknown[]).includes(v.protocol)) {
      e.add(`${path}.protocol`, `unsupported protocol ${JSON.stringify(v.protocol)}: must be TCP, UDP or SCTP`);
      return undefined;
    }
    protocol = v.protocol as Protocol;
  }
  const port = v.port;
  const endPort = v.endPort;
  const hasEnd = endPort !== undefined && endPort !== null;
  if (port === undefined || port === null) {
    if (hasEnd) {
      e.add(`${path}.endPort`, 'may not be specified when port is not specified');
      return undefined;
    }
    return { protocol, kind: 'any' };
  }
  // port is an IntOrString: the API server validates a string as a port name
  // (IANA_SVC_NAME), never as a number, so a quoted "80" is rejected.
  if (typeof port === 'string') {
    if (!isPortName(port)) {
      const hint = /^\d+$/.test(port) ? '; a port number must not be quoted' : '';
      e.add(`${path}.port`, `invalid port name ${JSON.stringify(port)}: must be an IANA_SVC_NAME (1-15 lowercase letters, digits, '-', at least one letter)${hint}`);
      return undefined;
    }
    if (hasEnd) {
      e.add(`${path}.endPort`, 'may not be specified when port is a named port');
      return undefined;
    }
    return { protocol, kind: 'named', name: port };
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    e.add(`${path}.port`, `must be between 1 and 65535, inclusive, or a port name; got ${JSON.stringify(port)}`);
    return undefined;
  }
  if (!hasEnd) return { protocol, kind: 'number', port, endPort: port };
  if (typeof endPort !== 'number' || !Number.isInteger(endPort) || endPort < 1 || endPort > 65535) {
    e.add(`${path}.endPort`, `must be between 1 and 65535, inclusive; got ${JSON.stringify(endPort)}`);
    return undefined;
  }
  if (endPort < port) {
    e.add(`${path}.endPort`, `must be greater than or equal to port (${port}); got ${endPort}`);
    return undefined;
  }
  return { protocol, kind: 'number', port, endPort };
}

function validateRules(v: unknown, path: string, peersKey: 'from' | 'to', e: Errs): Rule[] {
  const rules = arrayAt(v, path, e) ?? [];
  return rules.map((r, i) => {
    const p = `${path}[${i}]`;
    if (!isObj(r)) {
      e.add(p, 'must be an object');
      return { peers: [], ports: [] };
    }
    const peersRaw = arrayAt(r[peersKey], `${p}.${peersKey}`, e) ?? [];
    const portsRaw = arrayAt(r.ports, `${p}.ports`, e) ?? [];
    const peers = peersRaw.map((x, j) => validatePeer(x, `${p}.${peersKey}[${j}]`, e)).filter((x): x is Peer => x !== undefined);
    const ports = portsRaw.map((x, j) => validatePort(x, `${p}.ports[${j}]`, e)).filter((x): x is PortSpec => x !== undefined);
    return { peers: peersRaw.length === 0 ? 'all' : peers, ports: portsRaw.length === 0 ? 'all' : ports };
  });
}

/** Validates and normalises one NetworkPolicy API object. */
export function validatePolicy(obj: unknown): Validated {
  const e = new Errs();
  if (!isObj(obj)) return { ok: false, name: '?', errors: [{ path: '', message: 'must be an object' }] };
  const meta = isObj(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const namespace = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';
  const display = `${namespace}/${name || '?'}`;
  if (obj.apiVersion !== undefined && obj.apiVersion !== 'networking.k8s.io/v1') e.add('apiVersion', `must be networking.k8s.io/v1, got ${JSON.stringify(obj.apiVersion)}`);
  if (obj.kind !== undefined && obj.kind !== 'NetworkPolicy') e.add('kind', `must be NetworkPolicy, got ${JSON.stringify(obj.kind)}`);
  if (name === '') e.add('metadata.name', 'required');
  const spec = obj.spec;
  if (!isObj(spec)) {
    e.add('spec', 'required');
    return { ok: false, name: display, errors: e.list };
  }
  const podSelector = validateSelector(spec.podSelector, 'spec.podSelector', e);
  const ingress = validateRules(spec.ingress, 'spec.ingress', 'from', e);
  const egress = validateRules(spec.egress, 'spec.egress', 'to', e);
  // policyTypes defaulting: "If this field is not specified, it will default based on
  // the existence of ingress or egress rules; policies that contain an egress section
  // are assumed to affect egress, and all policies (whether or not they contain an
  // ingress section) are assumed to affect ingress." The API server's defaulting
  // (SetDefaults_NetworkPolicy) adds Egress only when len(spec.egress) != 0, so an
  // empty `egress: []` without policyTypes leaves egress unrestricted.
  let ingressIsolating = true;
  let egressIsolating = egress.length > 0;
  const types = arrayAt(spec.policyTypes, 'spec.policyTypes', e);
  if (types && types.length > 0) {
    ingressIsolating = false;
    egressIsolating = false;
    // As ValidateNetworkPolicySpec: at most two entries, each Ingress or Egress. A
    // repeated entry is accepted by the API server, so it is a no-op here — rejecting
    // it would drop the policy and leave the pods it selects open.
    if (types.length > 2) e.add('spec.policyTypes', 'may not have more than 2 entries');
    types.forEach((t, i) => {
      if (t === 'Ingress') ingressIsolating = true;
      else if (t === 'Egress') egressIsolating = true;
      else e.add(`spec.policyTypes[${i}]`, `unsupported value ${JSON.stringify(t)}: must be Ingress or Egress`);
    });
  }
  if (e.list.length > 0) return { ok: false, name: display, errors: e.list };
  return { ok: true, policy: { namespace, name, podSelector, ingressIsolating, egressIsolating, ingress, egress } };
}

/** `validatePolicy`, cached per object identity (per-object.ts). */
export const validatePolicyCached = perObject(validatePolicy);
