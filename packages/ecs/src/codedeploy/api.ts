// The CodeDeploy operations shipkit calls, and the SDK adapter.
import type {
  BatchGetDeploymentsCommandInput,
  BatchGetDeploymentsCommandOutput,
  CodeDeployClient,
  ContinueDeploymentCommandInput,
  ContinueDeploymentCommandOutput,
  CreateDeploymentCommandInput,
  CreateDeploymentCommandOutput,
  GetDeploymentCommandInput,
  GetDeploymentCommandOutput,
  GetDeploymentGroupCommandInput,
  GetDeploymentGroupCommandOutput,
  GetDeploymentTargetCommandInput,
  GetDeploymentTargetCommandOutput,
  GetApplicationRevisionCommandInput,
  GetApplicationRevisionCommandOutput,
  ListDeploymentsCommandInput,
  ListDeploymentsCommandOutput,
  StopDeploymentCommandInput,
  StopDeploymentCommandOutput,
} from '@aws-sdk/client-codedeploy';

/**
 * The CodeDeploy operations shipkit calls, one method per operation. Domain code depends on
 * this interface only, so tests hand in a small typed fake; {@link createCodeDeployApi} adapts
 * an SDK client.
 */
export interface CodeDeployApi {
  getDeploymentGroup(
    input: GetDeploymentGroupCommandInput,
  ): Promise<GetDeploymentGroupCommandOutput>;
  createDeployment(input: CreateDeploymentCommandInput): Promise<CreateDeploymentCommandOutput>;
  getDeployment(input: GetDeploymentCommandInput): Promise<GetDeploymentCommandOutput>;
  getDeploymentTarget(
    input: GetDeploymentTargetCommandInput,
  ): Promise<GetDeploymentTargetCommandOutput>;
  continueDeployment(
    input: ContinueDeploymentCommandInput,
  ): Promise<ContinueDeploymentCommandOutput>;
}

/**
 * The operations rollback adds: the deployment group's history (ListDeployments,
 * BatchGetDeployments, GetApplicationRevision for an AppSpec a deployment does not return) and
 * StopDeployment. A superset of {@link CodeDeployApi}, so a deploy takes it as it is.
 */
export interface CodeDeployRollbackApi extends CodeDeployApi {
  listDeployments(input: ListDeploymentsCommandInput): Promise<ListDeploymentsCommandOutput>;
  batchGetDeployments(
    input: BatchGetDeploymentsCommandInput,
  ): Promise<BatchGetDeploymentsCommandOutput>;
  getApplicationRevision(
    input: GetApplicationRevisionCommandInput,
  ): Promise<GetApplicationRevisionCommandOutput>;
  stopDeployment(input: StopDeploymentCommandInput): Promise<StopDeploymentCommandOutput>;
}

/** Adapts an SDK v3 CodeDeploy client to {@link CodeDeployRollbackApi}. Loads the command classes on first use. */
export async function createCodeDeployApi(
  client: CodeDeployClient,
): Promise<CodeDeployRollbackApi> {
  const sdk = await import('@aws-sdk/client-codedeploy');
  return {
    getDeploymentGroup: (i) => client.send(new sdk.GetDeploymentGroupCommand(i)),
    createDeployment: (i) => client.send(new sdk.CreateDeploymentCommand(i)),
    getDeployment: (i) => client.send(new sdk.GetDeploymentCommand(i)),
    getDeploymentTarget: (i) => client.send(new sdk.GetDeploymentTargetCommand(i)),
    continueDeployment: (i) => client.send(new sdk.ContinueDeploymentCommand(i)),
    listDeployments: (i) => client.send(new sdk.ListDeploymentsCommand(i)),
    batchGetDeployments: (i) => client.send(new sdk.BatchGetDeploymentsCommand(i)),
    getApplicationRevision: (i) => client.send(new sdk.GetApplicationRevisionCommand(i)),
    stopDeployment: (i) => client.send(new sdk.StopDeploymentCommand(i)),
  };
}
