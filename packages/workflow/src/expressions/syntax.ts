// The syntax of GitHub Actions expressions (`${{ … }}`): the tokenizer and parser, templates
// with embedded expressions, `if:` sources, and what the workflow checks read from a parsed
// expression (the contexts it reads, whether it calls a status function).
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
