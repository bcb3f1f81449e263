// The CodeDeploy operations shipkit calls, and the SDK adapter.
import type {
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

/** Adapts an SDK v3 CodeDeploy client to {@link CodeDeployApi}. Loads the command classes on first use. */
export async function createCodeDeployApi(client: CodeDeployClient): Promise<CodeDeployApi> {
  const sdk = await import('@aws-sdk/client-codedeploy');
  return {
    getDeploymentGroup: (i) => client.send(new sdk.GetDeploymentGroupCommand(i)),
    createDeployment: (i) => client.send(new sdk.CreateDeploymentCommand(i)),
    getDeployment: (i) => client.send(new sdk.GetDeploymentCommand(i)),
    getDeploymentTarget: (i) => client.send(new sdk.GetDeploymentTargetCommand(i)),
    continueDeployment: (i) => client.send(new sdk.ContinueDeploymentCommand(i)),
  };
}
