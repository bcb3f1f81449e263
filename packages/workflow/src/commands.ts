/**
 * What a step says to the runner: workflow commands on stdout (`::add-mask::`, `::error::`, …)
 * and the file commands (`GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_STATE`, `GITHUB_PATH`).
 */

/** Parses a `GITHUB_OUTPUT` / `GITHUB_ENV` / `GITHUB_STATE` file: `name=value` and heredocs. */
export function parseFileCommands(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) body.push(lines[i]);
      result[name] = body.join('\n');
    } else if (line.includes('=')) {
      const at = line.indexOf('=');
      result[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return result;
}

/** One workflow command read from a step's output, or a plain line. */
export type OutputLine =
  | { kind: 'text'; text: string }
  | { kind: 'mask'; value: string }
  | { kind: 'annotation'; level: 'error' | 'warning' | 'notice'; text: string }
  | { kind: 'debug'; text: string }
  | { kind: 'group'; title: string }
  | { kind: 'endgroup' }
  | { kind: 'set-output'; name: string; value: string }
  | { kind: 'save-state'; name: string; value: string };

function unescapeData(s: string): string {
  return s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

function unescapeProperty(s: string): string {
  return unescapeData(s).replace(/%3A/gi, ':').replace(/%2C/gi, ',');
}

/** Classifies one line a step printed. */
export function parseOutputLine(line: string): OutputLine {
  const m = /^::([a-zA-Z-]+)( [^:]*)?::(.*)$/.exec(line);
  if (!m) return { kind: 'text', text: line };
  const [, command, rawProps, data] = m;
  const props: Record<string, string> = {};
  for (const pair of (rawProps ?? '').trim().split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) props[pair.slice(0, at)] = unescapeProperty(pair.slice(at + 1));
  }
  const value = unescapeData(data);
  switch (command) {
    case 'add-mask':
      return { kind: 'mask', value };
    case 'error':
    case 'warning':
    case 'notice':
      return { kind: 'annotation', level: command, text: value };
    case 'debug':
      return { kind: 'debug', text: value };
    case 'group':
      return { kind: 'group', title: value };
    case 'endgroup':
      return { kind: 'endgroup' };
    case 'set-output':
      return { kind: 'set-output', name: props.name ?? '', value };
    case 'save-state':
      return { kind: 'save-state', name: props.name ?? '', value };
    default:
      return { kind: 'text', text: line };
  }
}

/** Hides registered secrets in text, as the runner does in logs. */
export class Masker {
  private readonly values = new Set<string>();

  /** Registers a value to hide (multi-line values are hidden line by line too). */
  add(value: string | undefined): void {
    if (!value || !value.trim()) return;
    this.values.add(value);
    for (const line of value.split(/\r?\n/)) if (line.trim().length > 0) this.values.add(line);
  }

  /** Text with every registered value replaced by `***`, longest first. */
  mask(text: string): string {
    let out = text;
    for (const v of [...this.values].sort((a, b) => b.length - a.length))
      out = out.split(v).join('***');
    return out;
  }
}
