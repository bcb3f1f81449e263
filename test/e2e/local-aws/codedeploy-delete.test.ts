/**
 * DeleteApplication, DeleteDeploymentGroup and DeleteDeploymentConfig of a name that does not
 * exist succeed, as on CodeDeploy: none of them has a "does not exist" error in the service
 * model (only the name-required and invalid-name ones), so a cleanup script can run twice.
 */
import {
  CodeDeployClient,
  CreateApplicationCommand,
  DeleteApplicationCommand,
  DeleteDeploymentConfigCommand,
  DeleteDeploymentGroupCommand,
  GetApplicationCommand,
} from '@aws-sdk/client-codedeploy';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

let aws: LocalAws;
let cd: CodeDeployClient;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  cd = new CodeDeployClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  await cd.send(new CreateApplicationCommand({ applicationName: 'known', computePlatform: 'ECS' }));
});

afterAll(async () => {
  cd?.destroy();
  await aws?.stop();
});

test('DeleteApplication deletes an application, and deleting it again succeeds', async () => {
  await cd.send(new CreateApplicationCommand({ applicationName: 'twice', computePlatform: 'ECS' }));
  await cd.send(new DeleteApplicationCommand({ applicationName: 'twice' }));
  await expect(
    cd.send(new GetApplicationCommand({ applicationName: 'twice' })),
  ).rejects.toMatchObject({ name: 'ApplicationDoesNotExistException' });
  await expect(
    cd.send(new DeleteApplicationCommand({ applicationName: 'twice' })),
  ).resolves.toBeDefined();
});

test.each([
  ['an unknown application', 'no-such-app'],
  ['an unknown group of a known application', 'known'],
])('DeleteDeploymentGroup of %s succeeds with no hooks left', async (_n, applicationName) => {
  const out = await cd.send(
    new DeleteDeploymentGroupCommand({ applicationName, deploymentGroupName: 'no-such-group' }),
  );
  expect(out.hooksNotCleanedUp).toEqual([]);
});

test.each<[string, string, () => Promise<unknown>]>([
  [
    'DeleteApplication without a name',
    'ApplicationNameRequiredException',
    () => cd.send(new DeleteApplicationCommand({ applicationName: '' })),
  ],
  [
    'DeleteDeploymentGroup without a group name',
    'DeploymentGroupNameRequiredException',
    () =>
      cd.send(
        new DeleteDeploymentGroupCommand({ applicationName: 'known', deploymentGroupName: '' }),
      ),
  ],
])('%s is refused with %s', async (_n, name, call) => {
  await expect(call()).rejects.toMatchObject({ name });
});

test('DeleteDeploymentConfig of an unknown configuration succeeds', async () => {
  await expect(
    cd.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'no-such-config' })),
  ).resolves.toBeDefined();
});
