import { SummaryBuilder } from '../../../packages/kit/src/summary';
import { deploy } from '../../../packages/ecs/src/deploy';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { addServiceSections } from '../../../packages/ecs/src/summary-sections';
import { toStoppedTask } from '../../../packages/ecs/src/stopped-tasks';
import { crashedTask, event, FakeClock, FakeEcs, rolling, service, T0, TD1, TD2 } from './fake-ecs';

/** Text planted by whoever controls an AWS message: line breaks followed by runner commands. */
const PLANTED = [
  '\n::set-output name=status::succeeded',
  '\r\n::add-mask::hunter2',
  '\n::warning ::pwned',
  '\n##[error]forged',
  '<img src=x onerror=alert(1)>',
].join('');

/** True when a line would be read by the runner as a command. */
function commandLine(line: string): boolean {
  return /^\s*::/.test(line) || line.includes('##[');
}

describe('untrusted AWS text reaches the log as one line and the summary as escaped text', () => {
  test('service events and stopped reasons with planted commands', async () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const log: DeployLog = {
      info: (m) => lines.push(m),
      debug: (m) => lines.push(m),
      warning: (m) => lines.push(m),
      group: (_n, fn) => fn(),
    };
    const ecs = new FakeEcs(
      clock,
      (ms) => ({
        service: service([rolling(TD2, 'COMPLETED', 0, 2, { pendingCount: 2 })], {}, [
          event('e1', T0 + 10, `has started 2 tasks.${PLANTED}`),
        ]),
        stopped: [
          crashedTask('a1', 1, T0 + Math.min(ms, 100), `Essential container exited${PLANTED}`),
        ],
      }),
      service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })]),
    );
    const result = await deploy({
      api: ecs.api,
      service: 'web',
      source: { kind: 'current' },
      images: new Map([['web', 'registry.example/web:v2']]),
      environment: new Map(),
      waitUntil: 'stable',
      timeoutMs: 60_000,
      dryRun: false,
      provenance: {},
      log,
      clock,
    });
    expect(result.status).toBe('failed');
    const eventLine = lines.find((l) => l.startsWith('event:'));
    expect(eventLine).toContain('⏎');
    for (const line of lines) {
      expect(line).not.toMatch(/[\r\n]/);
      expect(commandLine(line)).toBe(false);
    }

    const s = new SummaryBuilder('ECS deploy of web');
    s.text('reason follows');
    addServiceSections(s, {
      stoppedTasks: result.stoppedTasks,
      events: result.events,
    });
    const markdown = s.toMarkdown();
    for (const line of markdown.split('\n')) expect(commandLine(line)).toBe(false);
    expect(markdown).not.toContain('<img');
    expect(markdown).toContain('&lt;img');
  });

  test('a stopped reason alone in the summary list stays one escaped item', () => {
    const s = new SummaryBuilder('x');
    addServiceSections(s, {
      stoppedTasks: [toStoppedTask(crashedTask('a1', 1, T0, `exited${PLANTED}`))],
      events: [],
    });
    const items = s
      .toMarkdown()
      .split('\n')
      .filter((l) => l.startsWith('- '));
    expect(items).toHaveLength(1);
    expect(items[0]).toContain('::set-output');
    expect(items[0]).not.toMatch(/<img/);
  });
});
