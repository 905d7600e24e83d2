/**
 * Node selectors for IPPools, the subset of Calico's selector language that pools
 * use: `all()`, `k == 'v'`, `k != 'v'`, `has(k)`, `!has(k)`, `k in {'a','b'}`,
 * `k not in {...}`, `&&`, `||`, `!`, parentheses. Empty string means all(). Pure.
 */
export type Selector =
  | { kind: 'all' }
  | { kind: 'eq' | 'ne'; key: string; value: string }
  | { kind: 'has'; key: string }
  | { kind: 'in' | 'notin'; key: string; values: string[] }
  | { kind: 'not'; inner: Selector }
  | { kind: 'and' | 'or'; left: Selector; right: Selector };

export class SelectorError extends Error {
  constructor(readonly selector: string, message: string) {
    super(`invalid selector "${selector}": ${message}`);
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
    if (!m) throw new SelectorError(src, `unexpected character at ${i}`);
    if (m[1] !== undefined) out.push({ t: 'op', v: m[1] });
    else if (m[2] !== undefined) out.push({ t: 'str', v: m[2] });
    else if (m[3] !== undefined) out.push({ t: 'str', v: m[3] });
    else out.push({ t: 'id', v: m[4] as string });
    i = re.lastIndex;
  }
  return out;
}

export function parseSelector(src: string): Selector {
  const toks = tokenize(src);
  if (toks.length === 0) return { kind: 'all' };
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const fail = (msg: string): never => { throw new SelectorError(src, msg); };
  const expect = (t: Token['t'], v?: string): string => {
    const tok = toks[p++];
    if (!tok || tok.t !== t || (v !== undefined && tok.v !== v)) fail(`expected ${v ?? t} at token ${p}`);
    return (tok as Token).v;
  };
  const strList = (): string[] => {
    expect('op', '{');
    const vals: string[] = [];
    while (peek()?.v !== '}') {
      vals.push(expect('str'));
      if (peek()?.v === ',') p++;
    }
    expect('op', '}');
    return vals;
  };
  const primary = (): Selector => {
    const tok = peek();
    if (!tok) return fail('unexpected end');
    if (tok.t === 'op' && tok.v === '!') { p++; return { kind: 'not', inner: primary() }; }
    if (tok.t === 'op' && tok.v === '(') { p++; const e = orExpr(); expect('op', ')'); return e; }
    const id = expect('id');
    if (id === 'all' && peek()?.v === '(') { p++; expect('op', ')'); return { kind: 'all' }; }
    if (id === 'has' && peek()?.v === '(') { p++; const key = expect('id'); expect('op', ')'); return { kind: 'has', key }; }
    const op = peek();
    if (op?.v === '==' || op?.v === '!=') { p++; return { kind: op.v === '==' ? 'eq' : 'ne', key: id, value: expect('str') }; }
    if (op?.t === 'id' && op.v === 'in') { p++; return { kind: 'in', key: id, values: strList() }; }
    if (op?.t === 'id' && op.v === 'not') { p++; expect('id', 'in'); return { kind: 'notin', key: id, values: strList() }; }
    return fail(`expected an operator after "${id}"`);
  };
  const andExpr = (): Selector => {
    let left = primary();
    while (peek()?.v === '&&') { p++; left = { kind: 'and', left, right: primary() }; }
    return left;
  };
  const orExpr = (): Selector => {
    let left = andExpr();
    while (peek()?.v === '||') { p++; left = { kind: 'or', left, right: andExpr() }; }
    return left;
  };
  const sel = orExpr();
  if (p !== toks.length) fail(`unexpected "${toks[p]?.v}"`);
  return sel;
}

export function matchSelector(sel: Selector, labels: Readonly<Record<string, string>>): boolean {
  switch (sel.kind) {
    case 'all': return true;
    case 'eq': return labels[sel.key] === sel.value;
    case 'ne': return labels[sel.key] !== sel.value;
    case 'has': return Object.hasOwn(labels, sel.key);
    case 'in': return Object.hasOwn(labels, sel.key) && sel.values.includes(labels[sel.key] as string);
    case 'notin': return !Object.hasOwn(labels, sel.key) || !sel.values.includes(labels[sel.key] as string);
    case 'not': return !matchSelector(sel.inner, labels);
    case 'and': return matchSelector(sel.left, labels) && matchSelector(sel.right, labels);
    case 'or': return matchSelector(sel.left, labels) || matchSelector(sel.right, labels);
  }
}
