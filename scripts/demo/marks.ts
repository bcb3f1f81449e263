/**
 * Result marks for the demo's page, drawn as inline SVG: a bare machine has no emoji font, so
 * ✅ and ❌ in a page render as empty boxes there. The job summaries the actions write use those
 * emoji in their headings; {@link emojiToMarks} swaps them for the same SVG marks.
 */

/** What a mark says. */
export type MarkKind = 'success' | 'failure' | 'skipped' | 'cancelled' | 'warning';

const WHITE_STROKE =
  'fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"';

const SHAPES: Record<MarkKind, string> = {
  success: `<circle cx="8" cy="8" r="8" fill="#1a7f37"/><path d="M4.6 8.3 7 10.6l4.4-5" ${WHITE_STROKE}/>`,
  failure: `<circle cx="8" cy="8" r="8" fill="#cf222e"/><path d="m5.4 5.4 5.2 5.2m0-5.2-5.2 5.2" ${WHITE_STROKE}/>`,
  skipped: `<circle cx="8" cy="8" r="8" fill="#8c959f"/><path d="M4.8 8h6.4" ${WHITE_STROKE}/>`,
  cancelled: `<circle cx="8" cy="8" r="8" fill="#9a6700"/><path d="m5.2 10.8 5.6-5.6" ${WHITE_STROKE}/>`,
  warning: `<path d="M8 .8 15.4 14.6H.6z" fill="#9a6700" stroke="#9a6700" stroke-linejoin="round"/><path d="M8 5.8v4m0 2.4v.1" ${WHITE_STROKE}/>`,
};

/** An inline SVG mark, as tall as the text around it; `label` is what it reads as. */
export function mark(kind: MarkKind, label: string): string {
  return `<svg class="mark" viewBox="0 0 16 16" width="16" height="16" role="img" aria-label="${label}"><title>${label}</title>${SHAPES[kind]}</svg>`;
}

// The emoji the kit's job summaries put in front of a verdict, with the mark that replaces them.
const EMOJI: [RegExp, MarkKind, string][] = [
  [/\u2705\uFE0F?/gu, 'success', 'succeeded'],
  [/\u274C\uFE0F?/gu, 'failure', 'failed'],
  [/\u26A0\uFE0F?/gu, 'warning', 'warning'],
];

/**
 * Replaces the summaries' verdict emoji with SVG marks in the text of rendered HTML (never
 * inside a tag). Other emoji are left as they are, so the page check names them.
 */
export function emojiToMarks(html: string): string {
  return html
    .split(/(<[^>]*>)/)
    .map((part, i) =>
      i % 2
        ? part
        : EMOJI.reduce((text, [re, kind, label]) => text.replace(re, mark(kind, label)), part),
    )
    .join('');
}
