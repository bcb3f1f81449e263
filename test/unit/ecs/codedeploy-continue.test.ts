import type { CodeDeployApi } from '../../../packages/ecs/src/codedeploy/api';
import { continueCodeDeployment } from '../../../packages/ecs/src/codedeploy/continue';
import {
  codeDeployDescription,
  githubDeploymentIdIn,
} from '../../../packages/ecs/src/codedeploy/rollout';
import type { DeployLog } from '../../../packages/ecs/src/service';
import { FakeClock, FakeEcs, rolling, service, TD1 } from './fake-ecs';

describe('the GitHub Deployment in a CodeDeploy deployment description', () => {
  test.each([
    { written: codeDeployDescription('web:7', 1001), id: 1001 },
    { written: codeDeployDescription('web:7'), id: undefined },
    { written: 'shipkit: web:7', id: undefined },
    { written: 'deployed by hand; github-deployment 12', id: undefined },
    { written: 'shipkit: web:7; github-deployment 0', id: undefined },
    { written: 'shipkit: web:7; github-deployment 12 and more', id: undefined },
    { written: undefined, id: undefined },
  ])('$written reads as $id', ({ written, id }) => {
    expect(githubDeploymentIdIn(written)).toBe(id);
  });

  test('the description names the revision and the GitHub Deployment', () => {
    expect(codeDeployDescription('web:7', 1001)).toBe('shipkit: web:7; github-deployment 1001');
  });
});

const codeDeployService = service([rolling(TD1, 'COMPLETED', 2, 2, { status: 'PRIMARY' })], {
  clusterArn: 'arn:aws:ecs:us-east-1:000000000000:cluster/apps',
  deploymentController: { type: 'CODE_DEPLOY' },
});

function fakeCodeDeploy(description?: string): CodeDeployApi & { calls: string[] } {
  const calls: string[] = [];
  const unused = (op: string) => async (): Promise<never> => {
    throw new Error(`${op} is not expected`);
  };
  return {
    calls,
    getDeploymentGroup: unused('GetDeploymentGroup'),
    createDeployment: unused('CreateDeployment'),
    async getDeployment() {
      calls.push('GetDeployment');
      return {
        deploymentInfo: {
          deploymentId: 'd-AAAAAAAAA',
          status: 'Ready',
          applicationName: 'AppECS-apps-web',
          deploymentGroupName: 'DgpECS-apps-web',
          description,
        },
        $metadata: {},
      };
    },
    async getDeploymentTarget() {
      calls.push('GetDeploymentTarget');
      return { $metadata: {} };
    },
    async continueDeployment() {
      calls.push('ContinueDeployment');
      return { $metadata: {} };
    },
  };
}

const quiet: DeployLog = {
  info: () => undefined,
  debug: () => undefined,
  warning: () => undefined,
  group: (_name, fn) => fn(),
};

test.each([
  { description: codeDeployDescription('web:2', 1001), id: 1001 },
  { description: 'shipkit: web:2', id: undefined },
  { description: undefined, id: undefined },
])(
  'the go-ahead step hands the GitHub Deployment of "$description" ($id) over before ContinueDeployment',
  async ({ description, id }) => {
    const clock = new FakeClock();
    const ecs = new FakeEcs(clock, () => ({ service: codeDeployService }), codeDeployService);
    const cd = fakeCodeDeploy(description);
    const seen: (number | undefined)[] = [];
    const result = await continueCodeDeployment({
      cd: { api: cd },
      ecs: ecs.api,
      cluster: 'apps',
      service: 'web',
      deploymentId: 'd-AAAAAAAAA',
      waitUntil: 'none',
      timeoutMs: 60_000,
      log: quiet,
      clock,
      beforeChange: (githubId) => {
        seen.push(githubId);
        cd.calls.push('beforeChange');
      },
    });
    expect(result.status).toBe('in-progress');
    expect(result.reason).toBe(
      'CodeDeploy deployment d-AAAAAAAAA of web:1 goes on; not waiting for it.',
    );
    expect(seen).toEqual([id]);
    expect(cd.calls).toEqual([
      'GetDeployment',
      'GetDeploymentTarget',
      'beforeChange',
      'ContinueDeployment',
    ]);
  },
);
