/**
 * The CEL rules (`x-kubernetes-validations`) used in margay's CRDs, each with an
 * equivalent predicate so that ajv enforces exactly what the API server enforces.
 * margay does not interpret CEL in general: a rule that is not in this table makes
 * schema compilation fail, so a CRD cannot grow a rule the agent silently skips.
 * Predicates run after defaulting, and pass when their inputs are malformed — the
 * field's own type/format check reports that, once. Pure.
 */
import { isMasked, parseCIDR, parseIP, type ParsedCIDR } from './net.js';

type Obj = Record<string, unknown>;
/**
 * `oldSelf`: the value before an update. Transition rules (those naming oldSelf) run
 * only on updates, so without it (a create, or margay's single-object validation)
 * they pass.
 */
export type RulePredicate = (self: unknown, oldSelf?: unknown) => boolean;

const asObj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const has = (o: Obj, k: string): boolean => o[k] !== undefined;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const cidrOf = (v: unknown) => parseCIDR(str(v));

function blockSizeFitsFamily(o: Obj): boolean {
  if (!has(o, 'blockSize')) return true;
  const c = cidrOf(o.cidr);
  const size = o.blockSize;
  if (!c || typeof size !== 'number') return true;
  return c.family === 4 ? size >= 20 && size <= 32 : size >= 116 && size <= 128;
}

/** An IPPool's blockSize with the family default (26 / 122) when absent; undefined when malformed. */
function effectiveBlockSize(o: Obj): number | undefined {
  if (typeof o.blockSize === 'number') return o.blockSize;
  if (has(o, 'blockSize')) return undefined;
  const c = cidrOf(o.cidr);
  return c === undefined ? undefined : c.family === 4 ? 26 : 122;
}

const LINK_LOCAL_4 = parseCIDR('169.254.0.0/16') as ParsedCIDR;
const LINK_LOCAL_6 = parseCIDR('fe80::/10') as ParsedCIDR;

/** Two prefixes of one family overlap when they agree on the shorter prefix; false when `a` is malformed. */
function overlaps(a: ParsedCIDR | undefined, b: ParsedCIDR): boolean {
  if (a === undefined || a.family !== b.family) return false;
  const bits = Math.min(a.prefixLength, b.prefixLength);
  for (let i = 0; i < bits; i++) {
    const bit = (bytes: number[]) => ((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1;
    if (bit(a.bytes) !== bit(b.bytes)) return false;
  }
  return true;
}

const PEER_IP_RULE = "isIP(self) || (self.matches('^[0-9.]+:[0-9]{1,5}$') && isIP(self.split(':')[0]) && int(self.split(':')[1]) >= 1 && int(self.split(':')[1]) <= 65535) || (self.startsWith('[') && self.split(']:').size() == 2 && isIP(self.split(']:')[0].substring(1)) && ip(self.split(']:')[0].substring(1)).family() == 6 && self.split(']:')[1].matches('^[0-9]{1,5}$') && int(self.split(']:')[1]) >= 1 && int(self.split(']:')[1]) <= 65535)";

/** The peerIP rule step by step (CEL split/substring/int as JS); agent/node-config's parsePeerIP reads the same strings. */
function isPeerIP(s: string): boolean {
  const port = (p: string | undefined): boolean => p !== undefined && /^[0-9]{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
  if (parseIP(s) !== undefined) return true;
  if (/^[0-9.]+:[0-9]{1,5}$/.test(s)) return parseIP(s.split(':')[0] as string) !== undefined && port(s.split(':')[1]);
  const parts = s.split(']:');
  return s.startsWith('[') && parts.length === 2 && parseIP((parts[0] as string).slice(1))?.family === 6 && port(parts[1]);
}

export const CEL_RULES: Readonly<Record<string, RulePredicate>> = {
  'isIP(self)': (self) => parseIP(str(self)) !== undefined,
  'isCIDR(self)': (self) => cidrOf(self) !== undefined,
  'isCIDR(self) && cidr(self) == cidr(self).masked()': (self) => {
    const c = cidrOf(self);
    return c !== undefined && isMasked(c);
  },
  "self.ipipMode == 'Never' || self.vxlanMode == 'Never'": (self) => {
    const o = asObj(self);
    return o.ipipMode === 'Never' || o.vxlanMode === 'Never';
  },
  "cidr(self.cidr).ip().family() == 4 || self.ipipMode == 'Never'": (self) => {
    const o = asObj(self);
    const c = cidrOf(o.cidr);
    return c === undefined || c.family === 4 || o.ipipMode === 'Never';
  },
  'cidr(self.cidr).prefixLength() <= (has(self.blockSize) ? self.blockSize : (cidr(self.cidr).ip().family() == 4 ? 26 : 122))': (self) => {
    const o = asObj(self);
    const c = cidrOf(o.cidr);
    const size = effectiveBlockSize(o);
    return c === undefined || size === undefined || c.prefixLength <= size;
  },
  "cidr(self.cidr).ip().family() != 4 || !(cidr(self.cidr).containsIP('169.254.0.0') || cidr('169.254.0.0/16').containsIP(cidr(self.cidr).ip()))":
    (self) => !overlaps(cidrOf(asObj(self).cidr), LINK_LOCAL_4),
  "cidr(self.cidr).ip().family() != 6 || !(cidr(self.cidr).containsIP('fe80::') || cidr('fe80::/10').containsIP(cidr(self.cidr).ip()))":
    (self) => !overlaps(cidrOf(asObj(self).cidr), LINK_LOCAL_6),
  '!has(self.blockSize) || (cidr(self.cidr).ip().family() == 4 ? (self.blockSize >= 20 && self.blockSize <= 32) : (self.blockSize >= 116 && self.blockSize <= 128))':
    (self) => blockSizeFitsFamily(asObj(self)),
  'self.cidr == oldSelf.cidr': (self, oldSelf) => oldSelf === undefined || asObj(self).cidr === asObj(oldSelf).cidr,
  '(has(self.blockSize) ? self.blockSize : (cidr(self.cidr).ip().family() == 4 ? 26 : 122)) == (has(oldSelf.blockSize) ? oldSelf.blockSize : (cidr(oldSelf.cidr).ip().family() == 4 ? 26 : 122))':
    (self, oldSelf) => {
      if (oldSelf === undefined) return true;
      const now = effectiveBlockSize(asObj(self));
      const before = effectiveBlockSize(asObj(oldSelf));
      return now === undefined || before === undefined || now === before;
    },
  '!(has(self.node) && has(self.nodeSelector))': (self) => !(has(asObj(self), 'node') && has(asObj(self), 'nodeSelector')),
  '!(has(self.peerIP) && has(self.peerSelector))': (self) => !(has(asObj(self), 'peerIP') && has(asObj(self), 'peerSelector')),
  '!(has(self.peerSelector) && has(self.asNumber))': (self) => !(has(asObj(self), 'peerSelector') && has(asObj(self), 'asNumber')),
  'has(self.peerSelector) || (has(self.peerIP) && has(self.asNumber))': (self) => {
    const o = asObj(self);
    return has(o, 'peerSelector') || (has(o, 'peerIP') && has(o, 'asNumber'));
  },
  'has(self.secretKeyRef) != has(self.value)': (self) => has(asObj(self), 'secretKeyRef') !== has(asObj(self), 'value'),
  // BGPPeer/BGPConfiguration asNumber (x-kubernetes-int-or-string): the API server checks the type itself
  'type(self) == int || type(self) == string': (self) => Number.isInteger(self) || typeof self === 'string',
  // BGPPeer peerIP: an address, "IPv4:port" or "[IPv6]:port" (Calico's forms)
  [PEER_IP_RULE]: (self) => isPeerIP(str(self)),
};

export interface CelValidation {
  rule: string;
  message?: string;
}

/** The predicate of a rule, or an Error naming the rule margay cannot enforce. */
export function compileRule(v: CelValidation): RulePredicate {
  const p = CEL_RULES[v.rule];
  if (!p) throw new Error(`x-kubernetes-validations rule has no predicate in crds/cel-rules.ts: ${v.rule}`);
  return p;
}
