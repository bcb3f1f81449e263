/**
 * Text that shipkit did not write (AWS messages and events, stopped reasons, HTTP bodies, echoed
 * inputs such as a rollback `reason`) must never become a runner command or break the layout of
 * a log line or a summary. Everything such text goes through one of these functions before it
 * is printed.
 *
 * The runner reads a line as a command when, after leading whitespace, it starts with `::`, and
 * it still honours the legacy `##[command]` form anywhere in a line.
 */

/** Control characters other than tab; ESC among them (terminal colour and cursor codes). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
const LINE_BREAK = /\r\n|[\r\n\u2028\u2029\u0085]/g;

/** Neutralises command syntax in one line of text (no line breaks in `line`). */
function neutraliseLine(line: string): string {
  const defused = line.replace(/##\[/g, '## [');
  return /^\s*::/.test(defused) ? defused.replace('::', ': :') : defused;
}

/**
 * Makes untrusted text safe to print as (part of) one log line: line breaks become ` ⏎ `,
 * control characters are dropped, `::` at the start and `##[` anywhere are broken up so the
 * runner reads no command. Text longer than `maxLength` is cut with `…`.
 */
export function logSafe(text: unknown, maxLength = 4000): string {
  const flat = String(text ?? '')
    .replace(LINE_BREAK, ' ⏎ ')
    .replace(CONTROL, '');
  const cut = flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
  return neutraliseLine(cut);
}

/**
 * Breaks up command syntax on every line of `text` and keeps its line breaks (the runner ends a
 * line at CR, LF or CRLF). The kit's `info` applies it to every line it prints.
 */
export function defuseCommands(text: string): string {
  if (!text.includes('::') && !text.includes('##[')) return text;
  return text
    .split(/(\r\n|\r|\n)/)
    .map((part, i) => (i % 2 === 0 ? neutraliseLine(part) : part))
    .join('');
}

/**
 * Makes multi-line text safe to print as a block: control characters dropped, command syntax
 * broken up on every line, line breaks kept.
 */
export function logSafeLines(text: unknown): string {
  return defuseCommands(String(text ?? '').replace(CONTROL, ''));
}

/**
 * Makes untrusted text safe inside Markdown prose or a table cell of a job summary: one line,
 * HTML and Markdown punctuation escaped, so it cannot open a tag, a link, a heading, a table
 * column or a code span.
 */
export function markdownSafe(text: unknown, maxLength = 4000): string {
  return logSafe(text, maxLength)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]{}#|!~])/g, '\\$1');
}

/**
 * ` (text)` for a clause placed inside a sentence, without the full stop or spaces `text` may
 * end with (so a reason that is a sentence does not end as `…).).`); '' for no text.
 */
export function parenthetical(text: string | undefined): string {
  const trimmed = (text ?? '').replace(/[\s.]+$/, '');
  return trimmed ? ` (${trimmed})` : '';
}
