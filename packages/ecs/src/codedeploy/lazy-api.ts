// A CodeDeploy API built on its first call: an action on an ECS-controlled service never loads
// the CodeDeploy client.
import type { CodeDeployRollbackApi } from './api';

/** Builds the real CodeDeploy API from the SDK client (the kit's endpoint, region and error context). */
export async function realCodeDeployRollbackApi(): Promise<CodeDeployRollbackApi> {
  const [{ CodeDeployClient }, kitAws, { createCodeDeployApi }] = await Promise.all([
    import('@aws-sdk/client-codedeploy'),
    import('../../../kit/src/aws'),
    import('./api'),
  ]);
  const client = kitAws.withErrorContext(
    new CodeDeployClient(kitAws.awsClientConfig(kitAws.resolveRegion())),
    'CodeDeploy',
  );
  return createCodeDeployApi(client);
}

/** `injected` when given, else an API whose first call builds the real one with `build`. */
export function lazyCodeDeployApi(
  injected: CodeDeployRollbackApi | undefined,
  build: () => Promise<CodeDeployRollbackApi> = realCodeDeployRollbackApi,
): CodeDeployRollbackApi {
  if (injected) return injected;
  let real: Promise<CodeDeployRollbackApi> | undefined;
  const get = (): Promise<CodeDeployRollbackApi> => (real ??= build());
  return {
    getDeploymentGroup: async (i) => (await get()).getDeploymentGroup(i),
    createDeployment: async (i) => (await get()).createDeployment(i),
    getDeployment: async (i) => (await get()).getDeployment(i),
    getDeploymentTarget: async (i) => (await get()).getDeploymentTarget(i),
    continueDeployment: async (i) => (await get()).continueDeployment(i),
    listDeployments: async (i) => (await get()).listDeployments(i),
    batchGetDeployments: async (i) => (await get()).batchGetDeployments(i),
    getApplicationRevision: async (i) => (await get()).getApplicationRevision(i),
    stopDeployment: async (i) => (await get()).stopDeployment(i),
  };
}
