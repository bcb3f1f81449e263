import {
  CreateLoadBalancerCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startFixture, type Fixture } from '../../support/http-fixture';
import { runAction } from '../../support/run-action';
import {
  createForwardListener,
  createTargetGroup,
  startHarness,
  type Harness,
} from '../local-aws/support';

let h: Harness;
const fixtures: Fixture[] = [];
beforeAll(async () => (h = await startHarness()));
afterAll(async () => {
  await Promise.all(fixtures.map((f) => f.close()));
  await h.close();
});

/** A target group behind a listener whose one target answers `/health` with `status`. */
async function targetGroupWithTarget(name: string, status: number): Promise<string> {
  const target = await startFixture(() => ({ status }));
  fixtures.push(target);
  const tg = await createTargetGroup(h, name);
  const lb = await h.elb.send(
    new CreateLoadBalancerCommand({ Name: `${name}-lb`, Type: 'application' }),
  );
  await createForwardListener(h, lb.LoadBalancers![0].LoadBalancerArn, tg);
  await h.elb.send(
    new RegisterTargetsCommand({
      TargetGroupArn: tg,
      Targets: [{ Id: '127.0.0.1', Port: Number(new URL(target.url).port) }],
    }),
  );
  return tg;
}

function gate(url: string, tg: string): ReturnType<typeof runAction> {
  return runAction('health-gate', {
    env: {
      AWS_ENDPOINT_URL: h.aws.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    inputs: {
      url,
      'target-group-arn': tg,
      interval: '200ms',
      'unhealthy-threshold': '3',
      // Far beyond the run: a gate that only waited for the target would end on this.
      timeout: '10m',
    },
  });
}

test('a target ELB marks unhealthy fails the gate after unhealthy-threshold readings, not at the timeout', async () => {
  const app = await startFixture(() => ({}));
  fixtures.push(app);
  const tg = await targetGroupWithTarget('tg-sick', 503);
  const run = await gate(app.url, tg);
  expect(run.code).toBe(1);
  expect(run.outputs.healthy).toBe('false');
  expect(run.outputs.reason).toMatch(
    /^Target group tg-sick: 1 of 1 targets not healthy — 127\.0\.0\.1:\d+ unhealthy \(Target\.ResponseCodeMismatch.*\(3 readings in a row\)$/,
  );
});

test('a target that turns healthy passes the gate', async () => {
  const app = await startFixture(() => ({}));
  fixtures.push(app);
  const tg = await targetGroupWithTarget('tg-well', 200);
  const run = await gate(app.url, tg);
  expect(run.code).toBe(0);
  expect(run.outputs.healthy).toBe('true');
});
