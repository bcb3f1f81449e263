/**
 * Evaluation of GitHub Actions expressions with GitHub's semantics —
 * case-insensitive property access, loose `==` with number coercion, `&&`/`||` returning an
 * operand, the `*` filter, and the functions workflows use (`contains`, `startsWith`,
 * `endsWith`, `format`, `join`, `toJSON`, `fromJSON`, `hashFiles`, and the status functions
 * `success()`, `failure()`, `always()`, `cancelled()`) — and interpolation of workflow values.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import {
  ExpressionError,
  parseExpression,
  splitTemplate,
  type ExprValue,
  type Node,
} from './syntax';

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
