import * as core from '../../../packages/kit/src/core';
import { ConfigurationError } from '../../../packages/kit/src/errors';

/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A header value: visible characters, spaces and tabs; no line break or other control character. */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const FORM = 'one `Name: value` per line';
const HIDDEN = 'the line is not shown because header values are secret';

/**
 * Registers every part of `text` that may be a header's secret value with the runner before
 * anything is parsed: the value after the first `:` of each line, what follows the first word of
 * that value (`Bearer <token>`), and for a line that is not `Name: value`, the whole line and
 * each of its words but the first.
 */
export function maskHeaderValues(text: string): void {
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf(':');
    const name = at > 0 ? line.slice(0, at).trim() : '';
    if (at >= 0) maskHeaderValue(line.slice(at + 1).trim());
    if (!HEADER_NAME.test(name)) {
      core.setSecret(line);
      for (const word of line.split(/[\s:]+/).slice(1)) if (word) core.setSecret(word);
    }
  }
}

/**
 * Registers one header value with the runner as a secret: the whole value and what follows its
 * first word (the token of `Bearer <token>`).
 */
export function maskHeaderValue(value: string): void {
  if (!value) return;
  core.setSecret(value);
  const credentials = /^\S+\s+(\S.*)$/.exec(value)?.[1];
  if (credentials) core.setSecret(credentials);
}

/**
 * Parses the `headers` input: one `Name: value` per line, names unique (case-insensitively).
 * Call {@link maskHeaderValues} first. A bad line fails with a {@link ConfigurationError} that
 * names the input, the line number and, when the name is valid, the header, never the value.
 */
export function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const seen = new Map<string, number>();
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 1;
    if (!line) return;
    const at = line.indexOf(':');
    if (at < 0) {
      throw new ConfigurationError(
        `Input \`headers\` must be ${FORM}; line ${n} has no \`:\` (${HIDDEN}).`,
      );
    }
    const name = line.slice(0, at).trim();
    if (!HEADER_NAME.test(name)) {
      throw new ConfigurationError(
        `Input \`headers\` must be ${FORM}; line ${n} does not start with a valid header name (${HIDDEN}).`,
      );
    }
    const value = line.slice(at + 1).trim();
    if (!HEADER_VALUE.test(value)) {
      throw new ConfigurationError(
        `Input \`headers\` must be ${FORM}; the value of \`${name}\` on line ${n} holds a character a header value cannot hold, such as a control character (the value is not shown).`,
      );
    }
    const key = name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ConfigurationError(
        `Input \`headers\` sets \`${name}\` more than once (lines ${first} and ${n}).`,
      );
    }
    seen.set(key, n);
    headers[name] = value;
  });
  return headers;
}
