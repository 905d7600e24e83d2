/**
 * Calico selector expressions, used by IPPool nodeSelector and BGPPeer nodeSelector /
 * peerSelector: `all()`, `global()` (both match everything), `k == 'v'`, `k != 'v'`
 * (true when k is absent), `has(k)`, `k in {'a', 'b'}`, `k not in {...}` (true when
 * absent), `k contains 's'`, `k starts with 's'`, `k ends with 's'` (these three need
 * the label), `!`, `&&` (binds tighter than `||`), parentheses. Strings in single or
 * double quotes; label keys of letters, digits, `_ . / -`; `not in`, `starts with` and
 * `ends with` may be written as one word, as Calico's tokenizer allows. Empty string
 * means all(). Pure.
 */
export type Selector =
  | { kind: 'all' }
  | { kind: 'eq' | 'ne' | 'contains' | 'starts' | 'ends'; key: string; value: string }
  | { kind: 'has'; key: string }
  | { kind: 'in' | 'notin'; key: string; values: string[] }
  | { kind: 'not'; inner: Selector }
  | { kind: 'and' | 'or'; left: Selector; right: Selector };

export class SelectorError extends Error {
  constructor(readonly selector: string, readonly reason: string) {
    super(`invalid selector "${selector}": ${reason}`);
    this.name = 'SelectorError';
  }
}

type Token = { t: 'id' | 'str' | 'op'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(&&|\|\||==|!=|[!(){},])|'([^']*)'|"([^"]*)"|([A-Za-z0-9_./-]+))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) {
      const at = i + (/^\s*/.exec(src.slice(i))?.[0].length ?? 0);
      const c = src[at] ?? '';
      throw new SelectorError(src, c === "'" || c === '"' ? `unterminated string at ${at}` : `unexpected "${c}" at ${at}`);
    }
    if (m[1] !== undefined) out.push({ t: 'op', v: m[1] });
    else if (m[2] !== undefined) out.push({ t: 'str', v: m[2] });
    else if (m[3] !== undefined) out.push({ t: 'str', v: m[3] });
    else out.push({ t: 'id', v: m[4] as string });
    i = re.lastIndex;
  }
  return out;
}

/** Operators written as words after a label: one or two words → the node kind. */
const WORD_OPS: Readonly<Record<string, { second?: string; kind: 'contains' | 'starts' | 'ends' | 'in' | 'notin' }>> = {
  contains: { kind: 'contains' },
  in: { kind: 'in' },
  not: { second: 'in', kind: 'notin' },
  notin: { kind: 'notin' },
  starts: { second: 'with', kind: 'starts' },
  startswith: { kind: 'starts' },
  ends: { second: 'with', kind: 'ends' },
  endswith: { kind: 'ends' },
};

export function parseSelector(src: string): Selector {
  const toks = tokenize(src);
  if (toks.length === 0) return { kind: 'all' };
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const fail = (msg: string): never => { throw new SelectorError(src, msg); };
  const describe = (tok: Token | undefined): string => (tok === undefined ? 'the end' : tok.t === 'str' ? `'${tok.v}'` : `"${tok.v}"`);
  const expect = (t: Token['t'], what: string, v?: string): string => {
    const tok = toks[p];
    if (!tok || tok.t !== t || (v !== undefined && tok.v !== v)) fail(`expected ${what}, found ${describe(tok)}`);
    p++;
    return (tok as Token).v;
  };
  const strList = (): string[] => {
    expect('op', '"{"', '{');
    const vals: string[] = [];
    if (peek()?.v === '}' && peek()?.t === 'op') { p++; return vals; }
    for (;;) {
      vals.push(expect('str', 'a quoted string'));
      if (peek()?.t === 'op' && peek()?.v === ',') { p++; continue; }
      expect('op', '"," or "}"', '}');
      return vals;
    }
  };
  const call = (name: string): boolean => peek()?.t === 'op' && peek()?.v === '(' && (name === 'all' || name === 'global' || name === 'has');
  const primary = (): Selector => {
    const tok = peek();
    if (!tok) return fail('unexpected end');
    if (tok.t === 'op' && tok.v === '!') { p++; return { kind: 'not', inner: primary() }; }
    if (tok.t === 'op' && tok.v === '(') { p++; const e = orExpr(); expect('op', '")"', ')'); return e; }
    const id = expect('id', 'a label, has(), all() or global()');
    if (call(id)) {
      p++;
      if (id === 'has') { const key = expect('id', 'a label'); expect('op', '")"', ')'); return { kind: 'has', key }; }
      expect('op', '")"', ')');
      return { kind: 'all' };
    }
    const op = peek();
    if (op?.t === 'op' && (op.v === '==' || op.v === '!=')) { p++; return { kind: op.v === '==' ? 'eq' : 'ne', key: id, value: expect('str', 'a quoted string') }; }
    const word = op?.t === 'id' ? WORD_OPS[op.v] : undefined;
    if (!word) return fail(`expected an operator after "${id}", found ${describe(op)}`);
    p++;
    if (word.second !== undefined) expect('id', `"${word.second}"`, word.second);
    if (word.kind === 'in' || word.kind === 'notin') return { kind: word.kind, key: id, values: strList() };
    return { kind: word.kind, key: id, value: expect('str', 'a quoted string') };
  };
  const andExpr = (): Selector => {
    let left = primary();
    while (peek()?.t === 'op' && peek()?.v === '&&') { p++; left = { kind: 'and', left, right: primary() }; }
    return left;
  };
  const orExpr = (): Selector => {
    let left = andExpr();
    while (peek()?.t === 'op' && peek()?.v === '||') { p++; left = { kind: 'or', left, right: andExpr() }; }
    return left;
  };
  const sel = orExpr();
  if (p !== toks.length) fail(`unexpected ${describe(toks[p])}`);
  return sel;
}

export function matchSelector(sel: Selector, labels: Readonly<Record<string, string>>): boolean {
  const value = (key: string): string | undefined => (Object.hasOwn(labels, key) ? labels[key] : undefined);
  switch (sel.kind) {
    case 'all': return true;
    case 'eq': return value(sel.key) === sel.value;
    case 'ne': return value(sel.key) !== sel.value;
    case 'has': return value(sel.key) !== undefined;
    case 'in': { const v = value(sel.key); return v !== undefined && sel.values.includes(v); }
    case 'notin': { const v = value(sel.key); return v === undefined || !sel.values.includes(v); }
    case 'contains': return value(sel.key)?.includes(sel.value) ?? false;
    case 'starts': return value(sel.key)?.startsWith(sel.value) ?? false;
    case 'ends': return value(sel.key)?.endsWith(sel.value) ?? false;
    case 'not': return !matchSelector(sel.inner, labels);
    case 'and': return matchSelector(sel.left, labels) && matchSelector(sel.right, labels);
    case 'or': return matchSelector(sel.left, labels) || matchSelector(sel.right, labels);
  }
}
