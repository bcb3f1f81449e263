import {
  defuseCommands,
  logSafe,
  logSafeLines,
  markdownSafe,
  parenthetical,
} from '../../../packages/kit/src/log-text';
import * as core from '../../../packages/kit/src/core';

/** True when the runner would read some line of `out` as a workflow command. */
function readsAsCommand(out: string): boolean {
  return out.split(/\r\n|\r|\n/).some((line) => /^\s*::/.test(line) || line.includes('##['));
}

const hostile = [
  'deploying\n::set-output name=status::succeeded',
  'x\r::add-mask::ghp_secret',
  'ok\r\n  ::warning file=a::owned',
  '::error::starts with a command',
  'legacy ##[set-output name=status;]succeeded',
  'unicode line\u2028::notice::sep',
  'db%0A::stop-commands::tok'.replace('%0A', '\n'),
];

describe('logSafe', () => {
  it.each(hostile)('puts %j on one line that the runner reads as no command', (text) => {
    const out = logSafe(text);
    expect(out).not.toMatch(/[\r\n\u2028]/);
    expect(readsAsCommand(out)).toBe(false);
  });

  it('keeps ordinary text as it is', () => {
    expect(logSafe('service web: 2/2 running (deployment ecs-svc/123)')).toBe(
      'service web: 2/2 running (deployment ecs-svc/123)',
    );
  });

  it('drops terminal escape codes and cuts very long text', () => {
    expect(logSafe('\u001b[31mred\u001b[0m')).toBe('[31mred[0m');
    expect(logSafe('a'.repeat(50), 10)).toBe(`${'a'.repeat(9)}…`);
  });
});

describe('logSafeLines and defuseCommands', () => {
  it.each(hostile)('keep the lines of %j but defuse every command', (text) => {
    expect(readsAsCommand(logSafeLines(text))).toBe(false);
    expect(readsAsCommand(defuseCommands(text))).toBe(false);
  });
});

describe('markdownSafe', () => {
  it('escapes HTML, links, headings, table pipes and code spans', () => {
    const out = markdownSafe('# <img src=x onerror=alert(1)> [click](http://evil) | `x`\n### h');
    expect(out).not.toMatch(/<img|\n/);
    // Every Markdown structure character is escaped with a backslash.
    for (const ch of ['#', '[', ']', '|', '`']) {
      expect(
        out
          .split(ch)
          .slice(0, -1)
          .every((before) => before.endsWith('\\')),
      ).toBe(true);
    }
  });
});

describe('core.info', () => {
  it('never writes a line the runner would read as a command', () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      for (const text of hostile) core.info(`event: ${text}`);
    } finally {
      spy.mockRestore();
    }
    expect(readsAsCommand(writes.join(''))).toBe(false);
  });
});

describe('parenthetical', () => {
  it.each([
    ['gate failed in run 42', ' (gate failed in run 42)'],
    ['3 consecutive successes).', ' (3 consecutive successes))'],
    ['ends with a full stop. ', ' (ends with a full stop)'],
    ['', ''],
    [undefined, ''],
  ])('turns %j into %j', (text, out) => expect(parenthetical(text)).toBe(out));
});
