import { markdownToHtml } from '../../../packages/workflow/src/markdown-html';

test.each<[string, string, string]>([
  ['a verdict heading', '### ✅ Deploy: succeeded', '<h3>✅ Deploy: succeeded</h3>'],
  [
    'a facts table',
    '| | |\n| --- | --- |\n| **image** | `repo@sha256:1` |',
    '<td><strong>image</strong></td><td><code>repo@sha256:1</code></td>',
  ],
  [
    'a headed table',
    '| a | b |\n| --- | --- |\n| 1 | x\\|y |',
    '<thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>x|y</td></tr></tbody>',
  ],
  ['a list', '- one\n- two', '<ul><li>one</li><li>two</li></ul>'],
  ['a code block', '```\nline <1>\n```', '<pre>line &lt;1&gt;</pre>'],
  [
    'collapsed details',
    '<details><summary>Events</summary>\n\n- e1\n\n</details>',
    '<details><summary>Events</summary><ul><li>e1</li></ul></details>',
  ],
  [
    'raw HTML, escaped',
    '<script>alert(1)</script>',
    '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>',
  ],
])('renders %s', (_what, md, html) => {
  expect(markdownToHtml(md)).toContain(html);
});
