/**
 * Set-up for the CodeDeploy suites: a CODE_DEPLOY ECS service behind a production and a test
 * listener, its CodeDeploy application and deployment group, and readers of what the load
 * balancer and CodeDeploy report.
 */
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentConfigCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  type CreateDeploymentGroupCommandInput,
  type DeploymentInfo,
  type ECSTarget,
} from '@aws-sdk/client-codedeploy';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  DescribeListenersCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createTargetGroup, eventually, freePort, httpGet, type Harness } from './support';

/** A CodeDeploy client for the harness's local-aws. */
export function codeDeployClient(h: Harness): CodeDeployClient {
  return new CodeDeployClient({
    endpoint: h.aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });
}

/** Creates the ECS canary deployment configuration `name`: `percentage`, then the rest after `minutes`. */
export async function createCanaryConfig(
  cd: CodeDeployClient,
  name: string,
  percentage: number,
  minutes: number,
): Promise<void> {
  await cd.send(
    new CreateDeploymentConfigCommand({
      deploymentConfigName: name,
      computePlatform: 'ECS',
      trafficRoutingConfig: {
        type: 'TimeBasedCanary',
        timeBasedCanary: { canaryPercentage: percentage, canaryInterval: minutes },
      },
    }),
  );
}

/** One CODE_DEPLOY service with its listeners, target groups and deployment group. */
export interface Stack {
  cluster: string;
  service: string;
  app: string;
  group: string;
  blueTg: string;
  greenTg: string;
  prodListener: string;
  testListener: string;
  prodPort: number;
  testPort: number;
}

async function listener(h: Harness, lbArn: string, tg: string): Promise<[string, number]> {
  const port = await freePort();
  const out = await h.elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: lbArn,
      Protocol: 'HTTP',
      Port: port,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }],
    }),
  );
  return [out.Listeners![0].ListenerArn!, port];
}

/** Registers the `web` task definition of `image` (port 8080) and returns its ARN. */
export async function registerWeb(h: Harness, family: string, image: string): Promise<string> {
  const out = await h.ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: 'web', image, portMappings: [{ containerPort: 8080 }] }],
    }),
  );
  return out.taskDefinition!.taskDefinitionArn!;
}

/**
 * Creates the load balancer, both target groups and listeners, the CODE_DEPLOY service running
 * `blue` (1 task), the ECS application and a deployment group with `group` settings merged in,
 * and waits for the blue task set to be steady.
 */
export async function createStack(
  h: Harness,
  cd: CodeDeployClient,
  name: string,
  blueImage: string,
  group: Partial<CreateDeploymentGroupCommandInput> = {},
): Promise<Stack> {
  const cluster = 'cd';
  await h.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const lb = (
    await h.elb.send(new CreateLoadBalancerCommand({ Name: name, Subnets: ['subnet-1'] }))
  ).LoadBalancers![0];
  const blueTg = await createTargetGroup(h, `${name}-blue`);
  const greenTg = await createTargetGroup(h, `${name}-green`);
  const [prodListener, prodPort] = await listener(h, lb.LoadBalancerArn!, blueTg);
  const [testListener, testPort] = await listener(h, lb.LoadBalancerArn!, blueTg);
  const td = await registerWeb(h, name, blueImage);
  await h.ecs.send(
    new CreateServiceCommand({
      cluster,
      serviceName: name,
      taskDefinition: td,
      desiredCount: 1,
      deploymentController: { type: 'CODE_DEPLOY' },
      loadBalancers: [{ targetGroupArn: blueTg, containerName: 'web', containerPort: 8080 }],
    }),
  );
  const app = `AppECS-${cluster}-${name}`;
  const groupName = `DgpECS-${cluster}-${name}`;
  await cd.send(new CreateApplicationCommand({ applicationName: app, computePlatform: 'ECS' }));
  await cd.send(
    new CreateDeploymentGroupCommand({
      applicationName: app,
      deploymentGroupName: groupName,
      serviceRoleArn: 'arn:aws:iam::000000000000:role/ecsCodeDeployRole',
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      ecsServices: [{ clusterName: cluster, serviceName: name }],
      loadBalancerInfo: {
        targetGroupPairInfoList: [
          {
            targetGroups: [{ name: `${name}-blue` }, { name: `${name}-green` }],
            prodTrafficRoute: { listenerArns: [prodListener] },
            testTrafficRoute: { listenerArns: [testListener] },
          },
        ],
      },
      blueGreenDeploymentConfiguration: {
        terminateBlueInstancesOnDeploymentSuccess: {
          action: 'TERMINATE',
          terminationWaitTimeInMinutes: 0,
        },
        deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 },
      },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      ...group,
    }),
  );
  const stack: Stack = {
    cluster,
    service: name,
    app,
    group: groupName,
    blueTg,
    greenTg,
    prodListener,
    testListener,
    prodPort,
    testPort,
  };
  await eventually(
    async () => (await service(h, stack)).taskSets?.[0]?.stabilityStatus === 'STEADY_STATE',
    'the blue task set to be steady',
  );
  return stack;
}

/** The service as DescribeServices returns it. */
export async function service(h: Harness, s: Stack): Promise<Service> {
  return (
    await h.ecs.send(new DescribeServicesCommand({ cluster: s.cluster, services: [s.service] }))
  ).services![0];
}

/** The AppSpec (YAML) of a deployment of `taskDefinition`. */
export function appSpec(taskDefinition: string, hooks = ''): string {
  return [
    'version: 0.0',
    'Resources:',
    '  - TargetService:',
    '      Type: AWS::ECS::Service',
    '      Properties:',
    `        TaskDefinition: "${taskDefinition}"`,
    '        LoadBalancerInfo:',
    '          ContainerName: "web"',
    '          ContainerPort: 8080',
    hooks,
  ].join('\n');
}

/** Creates a deployment of `taskDefinition` and returns its id. */
export async function deploy(
  cd: CodeDeployClient,
  s: Stack,
  taskDefinition: string,
  extra: { deploymentConfigName?: string; hooks?: string } = {},
): Promise<string> {
  const out = await cd.send(
    new CreateDeploymentCommand({
      applicationName: s.app,
      deploymentGroupName: s.group,
      deploymentConfigName: extra.deploymentConfigName,
      revision: {
        revisionType: 'AppSpecContent',
        appSpecContent: { content: appSpec(taskDefinition, extra.hooks) },
      },
    }),
  );
  return out.deploymentId!;
}

/** GetDeployment's `deploymentInfo`. */
export async function deployment(cd: CodeDeployClient, id: string): Promise<DeploymentInfo> {
  return (await cd.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
}

/** The ECS target of a deployment. */
export async function ecsTarget(cd: CodeDeployClient, s: Stack, id: string): Promise<ECSTarget> {
  return (
    await cd.send(
      new GetDeploymentTargetCommand({ deploymentId: id, targetId: `${s.cluster}:${s.service}` }),
    )
  ).deploymentTarget!.ecsTarget!;
}

/** Waits until the deployment reaches `status` (any other final status fails the wait). */
export async function until(
  cd: CodeDeployClient,
  id: string,
  status: string,
): Promise<DeploymentInfo> {
  return eventually(async () => {
    const d = await deployment(cd, id);
    if (d.status !== status && ['Succeeded', 'Failed', 'Stopped'].includes(d.status!))
      throw new Error(`deployment ended ${d.status}: ${JSON.stringify(d.errorInformation)}`);
    return d.status === status ? d : undefined;
  }, `deployment ${id} to be ${status}`);
}

/** A listener's forward weights by target group ARN. */
export async function weights(h: Harness, listenerArn: string): Promise<Record<string, number>> {
  const l = (await h.elb.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] })))
    .Listeners![0];
  const out: Record<string, number> = {};
  for (const a of l.DefaultActions ?? [])
    for (const t of a.ForwardConfig?.TargetGroups ?? []) out[t.TargetGroupArn!] = t.Weight ?? 1;
  if (!Object.keys(out).length)
    for (const a of l.DefaultActions ?? []) if (a.TargetGroupArn) out[a.TargetGroupArn] = 1;
  return out;
}

/** The version the app on `port` answers with. */
export async function version(port: number): Promise<string> {
  const r = await httpGet(`http://127.0.0.1:${port}/`);
  return r.body.split(' ')[0];
}
