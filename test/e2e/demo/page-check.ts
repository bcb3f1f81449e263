/**
 * Looks at an HTML page in headless Chromium the way a reader would, without a browser-driver
 * package: a copy of the page gets a script that measures it and writes the measurements into
 * the DOM, and Chromium's `--dump-dom` hands them back. It measures horizontal overflow (the
 * document wider than the viewport, and elements reaching past the page's text column) and
 * characters no installed font can draw (they render as the same empty box as a code point no
 * font has). `screenshot` keeps a picture for a person to look at.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The apt command CI runs to get Chromium on Debian. */
export const CHROMIUM_INSTALL = 'apt-get install -y --no-install-recommends chromium';

/** Chromium's path (`CHROMIUM` if set, else the first of its usual names on PATH). */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const dir of (process.env.PATH ?? '').split(delimiter))
    for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not here
      }
    }
  return undefined;
}

/** Chromium's path, or an error that says how to install it. */
export function requireChromium(): string {
  const path = findChromium();
  if (!path)
    throw new Error(
      `Chromium is not installed: the demo page is checked in headless Chromium. Install it (Debian: ${CHROMIUM_INSTALL}) or set CHROMIUM to its path.`,
    );
  return path;
}

/** What the page script measured. */
export interface PageMeasure {
  /** Viewport width (CSS px, scroll bar included) and the document's visible width. */
  viewport: number;
  clientWidth: number;
  /** The document's scroll width: more than `clientWidth` means a horizontal scroll bar. */
  scrollWidth: number;
  scrollHeight: number;
  /** Elements reaching past the page's text column: `tag.class: right edge > column: text`. */
  pastColumn: string[];
  /** Characters drawn as the missing-glyph box in their font: `U+2705 ✅ in system-ui`. */
  missingGlyphs: string[];
}

// Runs in the page. Plain JavaScript in a string: the test's TypeScript transform must not touch it.
const PROBE = String.raw`(function () {
  var root = document.documentElement;
  var body = document.body;
  var style = getComputedStyle(body);
  var box = body.getBoundingClientRect();
  var columnRight = box.right - parseFloat(style.paddingRight);
  var past = [];
  body.querySelectorAll('*').forEach(function (el) {
    if (el.closest('#page-check')) return;
    var r = el.getBoundingClientRect();
    if (r.width && r.right > columnRight + 1) {
      var inner = el.parentElement && el.parentElement.getBoundingClientRect().right > columnRight + 1;
      if (!inner)
        past.push(el.tagName.toLowerCase() + (el.getAttribute('class') ? '.' + el.getAttribute('class') : '') +
          ': right edge ' + Math.round(r.right) + ' > column ' + Math.round(columnRight) + ': ' +
          (el.textContent || '').replace(/\s+/g, ' ').slice(0, 80));
    }
  });
  var canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 48;
  var ctx = canvas.getContext('2d', { willReadFrequently: true });
  function draw(ch, family) {
    ctx.clearRect(0, 0, 48, 48);
    ctx.font = '28px ' + family;
    ctx.fillText(ch, 6, 36);
    var d = ctx.getImageData(0, 0, 48, 48).data, h = 0;
    for (var i = 3; i < d.length; i += 4) h = (h * 31 + d[i]) >>> 0;
    return h + ':' + ctx.measureText(ch).width.toFixed(2);
  }
  var pairs = {};
  var walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  for (var n = walker.nextNode(); n; n = walker.nextNode()) {
    var el = n.parentElement;
    if (!el || el.closest('script,style,title,#page-check')) continue;
    var family = getComputedStyle(el).fontFamily;
    for (var ch of n.data) {
      var cp = ch.codePointAt(0);
      // ASCII, and marks that draw nothing on their own (variation selectors, joiners).
      if (cp < 0x7f || (cp >= 0xfe00 && cp <= 0xfe0f) || cp === 0x200d || cp === 0x200b) continue;
      pairs[family + '\u0000' + ch] = true;
    }
  }
  var missing = [];
  var boxes = {};
  Object.keys(pairs).forEach(function (key) {
    var parts = key.split('\u0000'), family = parts[0], ch = parts[1];
    if (!boxes[family]) boxes[family] = [draw('\u{10FFFD}', family), draw('\u0378', family)];
    if (boxes[family].indexOf(draw(ch, family)) >= 0)
      missing.push('U+' + ch.codePointAt(0).toString(16).toUpperCase().padStart(4, '0') + ' ' + ch + ' in ' + family);
  });
  var out = document.createElement('pre');
  out.id = 'page-check';
  out.textContent = JSON.stringify({
    viewport: window.innerWidth, clientWidth: root.clientWidth, scrollWidth: root.scrollWidth,
    scrollHeight: root.scrollHeight, pastColumn: past.slice(0, 20), missingGlyphs: missing
  });
  body.appendChild(out);
})();`;

function chromium(args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'page-check-profile-'));
  try {
    const run = spawnSync(
      requireChromium(),
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--no-default-browser-check',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    if (run.error) throw run.error;
    if (run.status !== 0)
      throw new Error(
        `chromium exited ${run.status}: ${run.stderr.split('\n').slice(-5).join('\n')}`,
      );
    return run.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Opens `htmlPath` in a window `width` CSS pixels wide and returns what the probe measured. */
export function measurePage(htmlPath: string, width: number): PageMeasure {
  const html = readFileSync(htmlPath, 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'page-check-'));
  try {
    const probed = join(dir, 'page.html');
    const script = `<script>${PROBE}</script>`;
    writeFileSync(
      probed,
      html.includes('</body>') ? html.replace('</body>', `${script}</body>`) : html + script,
    );
    const dom = chromium([`--window-size=${width},900`, '--dump-dom', pathToFileURL(probed).href]);
    const json = /<pre id="page-check">([\s\S]*?)<\/pre>/.exec(dom)?.[1];
    if (!json)
      throw new Error(`the page script wrote no measurements; the DOM began: ${dom.slice(0, 300)}`);
    const decoded = json
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    return JSON.parse(decoded) as PageMeasure;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes a PNG of the page, `width` wide and `height` tall (the whole page when tall enough). */
export function screenshot(htmlPath: string, pngPath: string, width: number, height: number): void {
  chromium([
    '--hide-scrollbars',
    `--window-size=${width},${height}`,
    `--screenshot=${pngPath}`,
    pathToFileURL(htmlPath).href,
  ]);
}

/** Code points that are emoji (drawn from an emoji font, if the machine has one). */
export function emojiIn(text: string): string[] {
  const found = new Set<string>();
  for (const ch of text)
    if (/[\p{Extended_Pictographic}\uFE0F]/u.test(ch))
      found.add(`U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} ${ch}`);
  return [...found];
}
