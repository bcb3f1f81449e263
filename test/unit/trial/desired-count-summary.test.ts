// Found by trying ecs-deploy by hand: `desired-count: 0` scaled the service to zero, and the job
// summary said `shop:3 → shop:3` and "No change to the task definition." with no word of the
// count it changed.
import { run } from '../../../actions/ecs-deploy/src/main';
import { runInProcess } from '../rollback/in-process-run';
import { FakeClock, FakeEcs, rolling, service, TD1 } from '../ecs/fake-ecs';

test.each([
  ['0', 'true', '| **Desired count** | 2 → 0 |'],
  ['2', 'true', undefined],
  ['0', 'false', undefined],
])(
  'desired-count %s with deploy %s: the summary row of the count changed is %p',
  async (count, deploy, row) => {
    const clock = new FakeClock();
    const ecs = new FakeEcs(clock, () => ({
      service: service([
        rolling(TD1, 'COMPLETED', Number(count), Number(count), { status: 'PRIMARY' }),
      ]),
    }));
    const result = await runInProcess(
      () => run({ ecs: ecs.api, clock }),
      {
        cluster: 'apps',
        service: 'web',
        'container-images': 'web=registry.example/web:v1',
        'desired-count': count,
        'wait-until': 'none',
        deploy,
      },
      { AWS_REGION: 'us-east-1' },
    );
    expect(result.errors).toEqual([]);
    if (row) expect(result.summary).toContain(row);
    else expect(result.summary).not.toContain('Desired count');
  },
);
