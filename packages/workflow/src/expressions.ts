/**
 * GitHub Actions expressions (`${{ … }}`): a parser and an evaluator with GitHub's semantics —
 * case-insensitive property access, loose `==` with number coercion, `&&`/`||` returning an
 * operand, the `*` filter, and the functions workflows use (`contains`, `startsWith`,
 * `endsWith`, `format`, `join`, `toJSON`, `fromJSON`, `hashFiles`, and the status functions
 * `success()`, `failure()`, `always()`, `cancelled()`).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** A value an expression can produce. */
export type ExprValue =
  null | boolean | number | string | ExprValue[] | { [key: string]: ExprValue };

/** A parsed expression. */
export type Node =
  | { kind: 'literal'; value: null | boolean | number | string }
  | { kind: 'context'; name: string }
  | { kind: 'property'; object: Node; name: string }
  | { kind: 'index'; object: Node; index: Node }
  | { kind: 'filter'; object: Node }
  | { kind: 'not'; operand: Node }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node }
  | { kind: 'call'; name: string; args: Node[] };

type BinaryOp = '&&' | '||' | '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A mistake in an expression's syntax or evaluation, with the expression it was found in. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    public readonly expression: string,
  ) {
    super(`${message} in expression \`${expression}\``);
    this.name = 'ExpressionError';
  }
}

type Token =
  | { t: 'num'; v: number }
  | { t: 'str'; v: string }
  | { t: 'ident'; v: string }
  | { t: 'op'; v: string }
  | { t: 'end' };

const OPERATORS = [
  '&&',
  '||',
  '==',
  '!=',
  '<=',
  '>=',
  '<',
  '>',
  '!',
  '(',
  ')',
  '[',
  ']',
  '.',
  ',',
  '*',
];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new ExpressionError('unterminated string', src);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += src[i++];
      }
      tokens.push({ t: 'str', v: value });
      continue;
    }
    const prev = tokens[tokens.length - 1];
    const afterDot = prev?.t === 'op' && prev.v === '.';
    if (!afterDot && /[0-9]/.test(c)) {
      const m = /^(0x[0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)/.exec(src.slice(i));
      if (!m) throw new ExpressionError(`bad number at ${i}`, src);
      tokens.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i));
      tokens.push({ t: 'ident', v: m![0] });
      i += m![0].length;
      continue;
    }
    if (c === '-' && /[0-9]/.test(src[i + 1] ?? '')) {
      const m = /^-[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(src.slice(i));
      tokens.push({ t: 'num', v: Number(m![0]) });
      i += m![0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected character \`${c}\``, src);
    tokens.push({ t: 'op', v: op });
    i += op.length;
  }
  tokens.push({ t: 'end' });
  return tokens;
}

/** Parses an expression (without the `${{ }}` around it). */
export function parseExpression(src: string): Node {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token => tokens[pos];
  const isOp = (v: string): boolean => {
    const t = peek();
    return t.t === 'op' && t.v === v;
  };
  const expect = (v: string): void => {
    if (!isOp(v)) throw new ExpressionError(`expected \`${v}\``, src);
    pos++;
  };

  const binary = (ops: BinaryOp[], next: () => Node) => (): Node => {
    let left = next();
    for (;;) {
      const t = peek();
      if (t.t === 'op' && (ops as string[]).includes(t.v)) {
        pos++;
        left = { kind: 'binary', op: t.v as BinaryOp, left, right: next() };
      } else return left;
    }
  };

  const primary = (): Node => {
    const t = peek();
    pos++;
    if (t.t === 'num') return { kind: 'literal', value: t.v };
    if (t.t === 'str') return { kind: 'literal', value: t.v };
    if (t.t === 'op' && t.v === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (t.t === 'ident') {
      const lower = t.v.toLowerCase();
      if (lower === 'true' || lower === 'false')
        return { kind: 'literal', value: lower === 'true' };
      if (lower === 'null') return { kind: 'literal', value: null };
      if (isOp('(')) {
        pos++;
        const args: Node[] = [];
        if (!isOp(')')) {
          args.push(or());
          while (isOp(',')) {
            pos++;
            args.push(or());
          }
        }
        expect(')');
        return { kind: 'call', name: lower, args };
      }
      return { kind: 'context', name: lower };
    }
    throw new ExpressionError(
      t.t === 'end' ? 'unexpected end' : `unexpected \`${'v' in t ? t.v : ''}\``,
      src,
    );
  };

  const postfix = (): Node => {
    let node = primary();
    for (;;) {
      if (isOp('.')) {
        pos++;
        const t = peek();
        pos++;
        if (t.t === 'op' && t.v === '*') node = { kind: 'filter', object: node };
        else if (t.t === 'ident') node = { kind: 'property', object: node, name: t.v };
        else if (t.t === 'num') node = { kind: 'property', object: node, name: String(t.v) };
        else throw new ExpressionError('expected a property name after `.`', src);
      } else if (isOp('[')) {
        pos++;
        if (isOp('*')) {
          pos++;
          node = { kind: 'filter', object: node };
        } else node = { kind: 'index', object: node, index: or() };
        expect(']');
      } else return node;
    }
  };

  const unary = (): Node => {
    if (isOp('!')) {
      pos++;
      return { kind: 'not', operand: unary() };
    }
    return postfix();
  };
  const comparison = binary(['<', '<=', '>', '>='], unary);
  const equality = binary(['==', '!='], comparison);
  const and = binary(['&&'], equality);
  const or = binary(['||'], and);

  const node = or();
  if (peek().t !== 'end') throw new ExpressionError('unexpected text after the expression', src);
  return node;
}

/** Everything an expression can read, by context name (`github`, `steps`, `needs`, …). */
export type Contexts = Record<string, ExprValue | undefined>;

/** The job status the status functions answer from. */
export interface StatusFunctions {
  success(): boolean;
  failure(): boolean;
  cancelled(): boolean;
}

/** What evaluation needs besides the contexts. */
export interface EvalOptions {
  status?: StatusFunctions;
  /** Directory `hashFiles` resolves its patterns in (the workspace). */
  workspace?: string;
}

/** GitHub's truthiness: null, false, 0, NaN and '' are false. */
export function truthy(v: ExprValue | undefined): boolean {
  if (v === null || v === undefined || v === false || v === '') return false;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  return true;
}

function toNumber(v: ExprValue): number {
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v.trim() === '') return 0;
    return Number(v.trim());
  }
  return NaN;
}

function looseEquals(a: ExprValue, b: ExprValue): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  const aObject = a !== null && typeof a === 'object';
  const bObject = b !== null && typeof b === 'object';
  if (aObject || bObject) return a === b;
  if (typeof a === typeof b) return a === b;
  return toNumber(a) === toNumber(b);
}

function compare(a: ExprValue, b: ExprValue): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = toNumber(a);
  const y = toNumber(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Renders a value as `${{ }}` interpolation does: null as '', objects as JSON. */
export function stringify(v: ExprValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  return JSON.stringify(v, null, 2);
}

function getProperty(obj: ExprValue | undefined, name: string): ExprValue {
  if (obj === null || obj === undefined) return null;
  if (Array.isArray(obj)) {
    if (/^[0-9]+$/.test(name)) return obj[Number(name)] ?? null;
    return null;
  }
  if (typeof obj !== 'object') return null;
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name] ?? null;
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key] ?? null;
  return null;
}

function format(src: string, template: string, args: ExprValue[]): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '{' && template[i + 1] === '{') {
      out += '{';
      i++;
    } else if (c === '}' && template[i + 1] === '}') {
      out += '}';
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      const index = Number(template.slice(i + 1, end));
      if (end < 0 || !Number.isInteger(index) || index >= args.length)
        throw new ExpressionError(`format: bad placeholder in \`${template}\``, src);
      out += stringify(args[index]);
      i = end;
    } else out += c;
  }
  return out;
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function hashFiles(workspace: string, patterns: string[]): string {
  const res = patterns.map(globToRegExp);
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name === '.git' || name === 'node_modules') continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (res.some((r) => r.test(relative(workspace, path).split(sep).join('/'))))
        files.push(path);
    }
  };
  walk(workspace);
  if (!files.length) return '';
  const outer = createHash('sha256');
  for (const f of files) outer.update(createHash('sha256').update(readFileSync(f)).digest());
  return outer.digest('hex');
}

/** Evaluates a parsed expression against the contexts. */
export function evaluate(
  node: Node,
  contexts: Contexts,
  opts: EvalOptions = {},
  src = '',
): ExprValue {
  const ev = (n: Node): ExprValue => evaluate(n, contexts, opts, src);
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'context': {
      const key = Object.keys(contexts).find((k) => k.toLowerCase() === node.name);
      if (key === undefined) throw new ExpressionError(`unknown context \`${node.name}\``, src);
      return contexts[key] ?? null;
    }
    case 'property': {
      const obj = ev(node.object);
      if (node.object.kind === 'filter' && Array.isArray(obj))
        return obj.map((o) => getProperty(o, node.name));
      return getProperty(obj, node.name);
    }
    case 'index': {
      const obj = ev(node.object);
      const index = ev(node.index);
      if (Array.isArray(obj) && typeof index === 'number') return obj[Math.trunc(index)] ?? null;
      return getProperty(obj, stringify(index));
    }
    case 'filter': {
      const obj = ev(node.object);
      if (Array.isArray(obj)) return obj;
      if (obj && typeof obj === 'object') return Object.values(obj);
      return [];
    }
    case 'not':
      return !truthy(ev(node.operand));
    case 'binary': {
      if (node.op === '&&') {
        const l = ev(node.left);
        return truthy(l) ? ev(node.right) : l;
      }
      if (node.op === '||') {
        const l = ev(node.left);
        return truthy(l) ? l : ev(node.right);
      }
      const l = ev(node.left);
      const r = ev(node.right);
      switch (node.op) {
        case '==':
          return looseEquals(l, r);
        case '!=':
          return !looseEquals(l, r);
        case '<':
          return compare(l, r) < 0;
        case '<=':
          return compare(l, r) <= 0;
        case '>':
          return compare(l, r) > 0;
        case '>=':
          return compare(l, r) >= 0;
      }
      break;
    }
    case 'call':
      return call(node, ev, opts, src);
  }
  throw new ExpressionError('unsupported expression', src);
}

function call(
  node: Extract<Node, { kind: 'call' }>,
  ev: (n: Node) => ExprValue,
  opts: EvalOptions,
  src: string,
): ExprValue {
  const args = (): ExprValue[] => node.args.map(ev);
  const arity = (min: number, max = min): void => {
    if (node.args.length < min || node.args.length > max)
      throw new ExpressionError(
        `${node.name}() takes ${min === max ? min : `${min} to ${max}`} arguments`,
        src,
      );
  };
  const status = (): StatusFunctions => {
    if (!opts.status) throw new ExpressionError(`${node.name}() is not available here`, src);
    return opts.status;
  };
  switch (node.name) {
    case 'success':
      arity(0);
      return status().success();
    case 'failure':
      arity(0);
      return status().failure();
    case 'cancelled':
      arity(0);
      return status().cancelled();
    case 'always':
      arity(0);
      return true;
    case 'contains': {
      arity(2);
      const [hay, needle] = args();
      if (Array.isArray(hay)) return hay.some((h) => looseEquals(h, needle));
      return stringify(hay).toLowerCase().includes(stringify(needle).toLowerCase());
    }
    case 'startswith': {
      arity(2);
      const [a, b] = args();
      return stringify(a).toLowerCase().startsWith(stringify(b).toLowerCase());
    }
    case 'endswith': {
      arity(2);
      const [a, b] = args();
      return stringify(a).toLowerCase().endsWith(stringify(b).toLowerCase());
    }
    case 'format': {
      if (node.args.length < 1) throw new ExpressionError('format() needs a format string', src);
      const [template, ...rest] = args();
      return format(src, stringify(template), rest);
    }
    case 'join': {
      arity(1, 2);
      const [list, separator] = args();
      const s = node.args.length > 1 ? stringify(separator) : ',';
      return Array.isArray(list) ? list.map(stringify).join(s) : stringify(list);
    }
    case 'tojson':
      arity(1);
      return JSON.stringify(args()[0], null, 2);
    case 'fromjson': {
      arity(1);
      const text = stringify(args()[0]);
      try {
        return JSON.parse(text) as ExprValue;
      } catch {
        throw new ExpressionError(`fromJSON: not JSON: ${text.slice(0, 80)}`, src);
      }
    }
    case 'hashfiles': {
      if (!opts.workspace) throw new ExpressionError('hashFiles() needs a workspace', src);
      return hashFiles(opts.workspace, args().map(stringify));
    }
  }
  throw new ExpressionError(`unknown function \`${node.name}()\``, src);
}

/** Evaluates expression source text (without `${{ }}`). */
export function evaluateExpression(
  src: string,
  contexts: Contexts,
  opts: EvalOptions = {},
): ExprValue {
  return evaluate(parseExpression(src), contexts, opts, src);
}

/** A piece of a template: literal text or an expression. */
export type TemplatePart = { text: string } | { expr: string };

/** Splits text with `${{ … }}` into literal text and expressions (`}}` inside strings is kept). */
export function splitTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('${{', i);
    if (start < 0) {
      parts.push({ text: text.slice(i) });
      break;
    }
    if (start > i) parts.push({ text: text.slice(i, start) });
    let j = start + 3;
    let inString = false;
    for (; j < text.length; j++) {
      if (text[j] === "'") inString = !inString;
      else if (!inString && text.startsWith('}}', j)) break;
    }
    if (j >= text.length) throw new ExpressionError('missing `}}`', text.slice(start));
    parts.push({ expr: text.slice(start + 3, j).trim() });
    i = j + 2;
  }
  return parts;
}

/**
 * Evaluates a workflow value: `${{ x }}` alone keeps x's type; text with several parts is joined
 * as a string. Values that are not strings are returned as they are.
 */
export function interpolate(value: unknown, contexts: Contexts, opts: EvalOptions = {}): ExprValue {
  if (typeof value !== 'string') return (value ?? null) as ExprValue;
  const parts = splitTemplate(value);
  if (parts.length === 1 && 'expr' in parts[0])
    return evaluateExpression(parts[0].expr, contexts, opts);
  return parts
    .map((p) => ('expr' in p ? stringify(evaluateExpression(p.expr, contexts, opts)) : p.text))
    .join('');
}

/** Interpolates every string inside a plain value (objects and arrays recursively). */
export function interpolateDeep(
  value: unknown,
  contexts: Contexts,
  opts: EvalOptions = {},
): ExprValue {
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, contexts, opts));
  if (value && typeof value === 'object') {
    const out: Record<string, ExprValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateDeep(v, contexts, opts);
    return out;
  }
  return interpolate(value, contexts, opts);
}

/** The expression of an `if:` (with or without `${{ }}`). */
export function conditionSource(condition: unknown): string {
  if (condition === undefined || condition === null || condition === '') return '';
  if (typeof condition === 'boolean' || typeof condition === 'number') return String(condition);
  const text = String(condition).trim();
  const parts = splitTemplate(text);
  if (parts.length === 1 && 'expr' in parts[0]) return parts[0].expr;
  return text;
}

/** Whether an expression calls a status function (otherwise `success() &&` is implied). */
export function usesStatusFunction(node: Node): boolean {
  let found = false;
  walk(node, (n) => {
    if (n.kind === 'call' && ['success', 'failure', 'always', 'cancelled'].includes(n.name))
      found = true;
  });
  return found;
}

/** Visits every node of an expression. */
export function walk(node: Node, visit: (n: Node) => void): void {
  visit(node);
  switch (node.kind) {
    case 'property':
    case 'filter':
      walk(node.object, visit);
      break;
    case 'index':
      walk(node.object, visit);
      walk(node.index, visit);
      break;
    case 'not':
      walk(node.operand, visit);
      break;
    case 'binary':
      walk(node.left, visit);
      walk(node.right, visit);
      break;
    case 'call':
      node.args.forEach((a) => walk(a, visit));
      break;
  }
}

/**
 * The property paths an expression reads from a context, e.g. `steps.deploy.outputs.status` →
 * `['steps', 'deploy', 'outputs', 'status']`. Index access with a literal counts as a property.
 */
export function contextPaths(node: Node): string[][] {
  const paths: string[][] = [];
  const pathOf = (n: Node): string[] | undefined => {
    if (n.kind === 'context') return [n.name];
    if (n.kind === 'property') {
      const base = pathOf(n.object);
      return base && [...base, n.name];
    }
    if (n.kind === 'index' && n.index.kind === 'literal' && typeof n.index.value === 'string') {
      const base = pathOf(n.object);
      return base && [...base, n.index.value];
    }
    return undefined;
  };
  const collect = (n: Node): void => {
    const p = pathOf(n);
    if (p) {
      paths.push(p);
      // The index expression of a non-literal access may itself read contexts.
      return;
    }
    switch (n.kind) {
      case 'property':
      case 'filter':
        collect(n.object);
        break;
      case 'index':
        collect(n.object);
        collect(n.index);
        break;
      case 'not':
        collect(n.operand);
        break;
      case 'binary':
        collect(n.left);
        collect(n.right);
        break;
      case 'call':
        n.args.forEach(collect);
        break;
    }
  };
  collect(node);
  return paths;
}
