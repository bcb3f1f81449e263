import * as core from './core';

/** How a summary's verdict line looks. */
export type Verdict = 'success' | 'failure' | 'warning' | 'neutral';

const ICONS: Record<Verdict, string> = {
  success: '✅',
  failure: '❌',
  warning: '⚠️',
  neutral: 'ℹ️',
};

/**
 * Escapes text for a Markdown table cell: every pipe not escaped yet (text made safe with
 * `markdownSafe` already has `\|`, and a second backslash would end the cell), and line breaks.
 */
export function cell(text: unknown): string {
  return String(text ?? '')
    .replace(/(?<!\\)\|/g, '\\|')
    .replace(/\r?\n/g, '<br>');
}

/**
 * Builds the job summary every shipkit action writes, so they all look alike:
 * a title with the verdict, a facts table, then sections, tables and details.
 */
export class SummaryBuilder {
  private readonly parts: string[] = [];

  constructor(private readonly title: string) {}

  /** `### ✅ <title>: <text>` — call once, first. */
  verdict(kind: Verdict, text: string): this {
    this.parts.push(`### ${ICONS[kind]} ${this.title}: ${text}`);
    return this;
  }

  /** A two-column table of facts; rows whose value is undefined or '' are left out. */
  facts(rows: [string, unknown][]): this {
    const kept = rows.filter(([, v]) => v !== undefined && v !== '');
    if (kept.length)
      this.table(
        ['', ''],
        kept.map(([k, v]) => [`**${k}**`, v]),
      );
    return this;
  }

  table(headers: string[], rows: unknown[][]): this {
    const head = `| ${headers.map(cell).join(' | ')} |`;
    const rule = `| ${headers.map(() => '---').join(' | ')} |`;
    const body = rows.map((r) => `| ${r.map(cell).join(' | ')} |`);
    this.parts.push([head, rule, ...body].join('\n'));
    return this;
  }

  heading(text: string): this {
    this.parts.push(`#### ${text}`);
    return this;
  }

  text(text: string): this {
    this.parts.push(text);
    return this;
  }

  list(items: string[]): this {
    if (items.length) this.parts.push(items.map((i) => `- ${i}`).join('\n'));
    return this;
  }

  /** A collapsed block; `body` is shown as code when `code` is true. */
  details(summary: string, body: string, code = false): this {
    const inner = code ? `\n\n\`\`\`\n${body}\n\`\`\`\n\n` : `\n\n${body}\n\n`;
    this.parts.push(`<details><summary>${summary}</summary>${inner}</details>`);
    return this;
  }

  toMarkdown(): string {
    // A blank line at the end: the next step's summary may follow (after an HTML block too).
    return `${this.parts.join('\n\n')}\n\n`;
  }

  /** Appends the summary to the job summary file; does nothing outside a runner. */
  async write(): Promise<void> {
    if (!core.appendSummary(this.toMarkdown())) {
      core.debug('GITHUB_STEP_SUMMARY is not set: no job summary written.');
    }
  }
}
