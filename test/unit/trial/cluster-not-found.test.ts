// Found by driving the bundles by hand: a `cluster` that does not exist failed ecs-deploy and
// rollback with ECS's raw ClusterNotFoundException, never naming the input.
import { run as deployRun } from '../../../actions/ecs-deploy/src/main';
import { run as rollbackRun } from '../../../actions/rollback/src/main';
import type { EcsApi } from '../../../packages/ecs/src/api';
import { runInProcess } from '../rollback/in-process-run';

/** An ECS whose every call answers as ECS does for a cluster that does not exist. */
function noCluster(): { api: EcsApi; calls: string[] } {
  const calls: string[] = [];
  const ops = [
    'describeServices',
    'describeServiceDeployments',
    'listServiceDeployments',
    'describeServiceRevisions',
    'describeTaskDefinition',
    'listTaskDefinitions',
    'registerTaskDefinition',
    'updateService',
    'stopServiceDeployment',
    'listTasks',
    'describeTasks',
    'tagResource',
  ];
  const api = Object.fromEntries(
    ops.map((op) => [
      op,
      async () => {
        calls.push(op);
        throw Object.assign(new Error('Cluster not found.'), {
          name: 'ClusterNotFoundException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400, requestId: 'req-1' },
        });
      },
    ]),
  ) as unknown as EcsApi;
  return { api, calls };
}

test.each<{ name: string; action: (ecs: EcsApi) => Promise<void>; inputs: Record<string, string> }>(
  [
    {
      name: 'ecs-deploy of one service',
      action: (ecs) => deployRun({ ecs }),
      inputs: { service: 'api', 'container-images': 'app=reg/app:v2' },
    },
    {
      name: 'ecs-deploy of a release',
      action: (ecs) => deployRun({ ecs }),
      inputs: { service: 'api\nworker', 'container-images': 'api/app=reg/app:v2' },
    },
    {
      name: 'rollback of one service',
      action: (ecs) => rollbackRun({ ecs }),
      inputs: { service: 'api' },
    },
    {
      name: 'rollback of several services',
      action: (ecs) => rollbackRun({ ecs }),
      inputs: { service: 'api\nworker' },
    },
  ],
)(
  '$name in an unknown cluster names `cluster`, and changes nothing',
  async ({ action, inputs }) => {
    const { api, calls } = noCluster();
    const result = await runInProcess(
      () => action(api),
      { cluster: 'prod-eu', ...inputs },
      {
        AWS_REGION: 'us-east-1',
      },
    );
    expect(result.exitCode).toBe(1);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(
      /^Invalid configuration: Input `cluster`: cluster `prod-eu` was not found \(.*ClusterNotFoundException: .*Cluster not found\./,
    );
    expect(calls.filter((c) => /^(register|update|createDeployment|stop)/i.test(c))).toEqual([]);
  },
);
