import * as core from './core';
import { ConfigurationError } from './errors';
import { parseDuration } from './duration';

/** Reads one raw input by name; returns '' when it is not set. */
export type InputReader = (name: string) => string;

/** Reads inputs the way the Actions runner passes them (`INPUT_<NAME>` variables). */
export const runnerInputs: InputReader = (name) => core.getInput(name, { trimWhitespace: true });

interface Common {
  /** The value is a credential: masked as soon as it is read and never echoed in errors. */
  secret?: boolean;
}

/**
 * Typed, strict readers for an action's inputs. Every bad value throws a
 * {@link ConfigurationError} naming the input in backticks, the value (unless secret) and the
 * accepted form. Nothing falls back silently.
 */
export class InputParser {
  constructor(private readonly read: InputReader = runnerInputs) {}

  private raw(name: string, opts: Common = {}): string {
    const value = this.read(name).trim();
    if (value && opts.secret) core.setSecret(value);
    return value;
  }

  /** Throws the standard error for input `name`. */
  fail(name: string, value: string, form: string, secret = false): never {
    const got = secret ? '' : `; got \`${value.length > 200 ? `${value.slice(0, 200)}…` : value}\``;
    throw new ConfigurationError(`Input \`${name}\` must be ${form}${got}.`);
  }

  /** A required string; an empty value is an error. */
  required(name: string, opts: Common = {}): string {
    const value = this.raw(name, opts);
    if (!value) throw new ConfigurationError(`Input \`${name}\` is required and was not set.`);
    return value;
  }

  /** An optional string; undefined when unset. */
  string(name: string, opts: Common & { default?: string } = {}): string | undefined {
    return this.raw(name, opts) || opts.default;
  }

  /** `true` or `false` (also `True`/`TRUE`/`False`/`FALSE`, as YAML 1.2 spells booleans). */
  bool(name: string, defaultValue: boolean): boolean {
    const value = this.raw(name);
    if (!value) return defaultValue;
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    return this.fail(name, value, '`true` or `false`');
  }

  /** An integer within optional bounds; undefined when unset and no default is given. */
  int(
    name: string,
    opts: { default?: number; min?: number; max?: number } = {},
  ): number | undefined {
    const value = this.raw(name);
    if (!value) return opts.default;
    const n = /^[+-]?\d+$/.test(value) ? Number(value) : NaN;
    if (
      !Number.isSafeInteger(n) ||
      (opts.min !== undefined && n < opts.min) ||
      (opts.max !== undefined && n > opts.max)
    ) {
      return this.fail(name, value, `a whole number${bounds(opts.min, opts.max)}`);
    }
    return n;
  }

  /** A non-negative decimal number within optional bounds (e.g. a percentage). */
  number(
    name: string,
    opts: { default?: number; min?: number; max?: number } = {},
  ): number | undefined {
    const value = this.raw(name);
    if (!value) return opts.default;
    const n = /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : NaN;
    if (
      Number.isNaN(n) ||
      (opts.min !== undefined && n < opts.min) ||
      (opts.max !== undefined && n > opts.max)
    ) {
      return this.fail(name, value, `a number${bounds(opts.min, opts.max)}`);
    }
    return n;
  }

  /**
   * A duration in milliseconds: `250ms`, `30s`, `5m`, `1h` (combinations like `1m30s`), or a bare
   * number of seconds. Undefined when unset and no default is given.
   */
  duration(
    name: string,
    opts: { default?: string; min?: number; max?: number } = {},
  ): number | undefined {
    const value = this.raw(name) || opts.default;
    if (!value) return undefined;
    const ms = parseDuration(value);
    const form = 'a duration such as `250ms`, `30s`, `5m` or `1h` (a bare number is seconds)';
    if (ms === undefined) return this.fail(name, value, form);
    if (opts.min !== undefined && ms < opts.min)
      return this.fail(name, value, `${form}, at least ${opts.min}ms`);
    if (opts.max !== undefined && ms > opts.max)
      return this.fail(name, value, `${form}, at most ${opts.max}ms`);
    return ms;
  }

  /**
   * Warns when duration input `name` is a bare number, which {@link duration} reads as seconds:
   * a user thinking in `unitWords` (the unit the input's neighbours use) would get a value 60 or
   * 1000 times off. Bare numbers stay accepted (v1 promises no accepted value starts to fail).
   */
  warnBareSeconds(name: string, unit: string, unitWords: string): void {
    const value = this.raw(name);
    if (/^\d+$/.test(value))
      core.warning(
        `Input \`${name}\` is \`${value}\`, a bare number, read as ${value} seconds: write \`${value}${unit}\` for ${unitWords} or \`${value}s\` to keep seconds.`,
      );
  }

  /** One of a fixed set of words. */
  choice<T extends string>(name: string, choices: readonly T[], defaultValue?: T): T | undefined {
    const value = this.raw(name);
    if (!value) return defaultValue;
    if ((choices as readonly string[]).includes(value)) return value as T;
    return this.fail(name, value, `one of ${choices.map((c) => `\`${c}\``).join(', ')}`);
  }

  /** Items separated by newlines or commas; blanks dropped. */
  list(name: string, opts: Common = {}): string[] {
    return splitList(this.raw(name, opts));
  }

  /** Items one per line (for values that may contain commas); blanks dropped. */
  lines(name: string, opts: Common = {}): string[] {
    return splitLines(this.raw(name, opts));
  }

  /**
   * `key=value` pairs, one per line. Keys must be unique; values may contain `=`.
   * `separator` changes `=` (for example `:` for HTTP headers).
   */
  map(
    name: string,
    opts: Common & { separator?: string; keyPattern?: RegExp; keyForm?: string } = {},
  ): Map<string, string> {
    const sep = opts.separator ?? '=';
    const result = new Map<string, string>();
    for (const line of this.lines(name, opts)) {
      const at = line.indexOf(sep);
      const key = at > 0 ? line.slice(0, at).trim() : '';
      const form = `one \`${opts.keyForm ?? 'key'}${sep}value\` per line`;
      if (!key || (opts.keyPattern && !opts.keyPattern.test(key))) {
        return this.fail(name, opts.secret ? key : line, form, false);
      }
      if (result.has(key)) {
        throw new ConfigurationError(`Input \`${name}\` sets \`${key}\` more than once.`);
      }
      const value = line.slice(at + sep.length).trim();
      if (opts.secret && value) core.setSecret(value);
      result.set(key, value);
    }
    return result;
  }
}

function bounds(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

/** Splits on newlines and commas, trimming and dropping blanks. */
export function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Splits on newlines, trimming and dropping blanks. */
export function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}
