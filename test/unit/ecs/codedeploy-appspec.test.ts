import { AppSpecError, fillAppSpec } from '../../../packages/ecs/src/codedeploy/appspec';

const TD = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:7';
const FROM_SERVICE = { taskDefinitionArn: TD, containerName: 'web', containerPort: 8080 };

function target(spec: Record<string, unknown>): Record<string, unknown> {
  return (spec.Resources as { TargetService: Record<string, unknown> }[])[0].TargetService;
}

describe('fillAppSpec', () => {
  test.each([
    {
      name: 'no file: the registered revision and the service load balancer container',
      file: undefined,
      properties: {
        TaskDefinition: TD,
        LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
      },
      notes: 2,
    },
    {
      name: 'a file with hooks only: filled in, hooks kept',
      file: { version: 0.0, Hooks: [{ BeforeAllowTraffic: 'check' }] },
      properties: {
        TaskDefinition: TD,
        LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
      },
      notes: 2,
    },
    {
      name: 'a file that sets the container name and port: the file wins',
      file: {
        Resources: [
          {
            TargetService: {
              Type: 'AWS::ECS::Service',
              Properties: { LoadBalancerInfo: { ContainerName: 'proxy', ContainerPort: '80' } },
            },
          },
        ],
      },
      properties: {
        TaskDefinition: TD,
        LoadBalancerInfo: { ContainerName: 'proxy', ContainerPort: 80 },
      },
      notes: 0,
    },
    {
      name: 'a file with a placeholder task definition and a platform version: the revision replaces it, the rest is kept',
      file: {
        Resources: [
          {
            TargetService: {
              Properties: { TaskDefinition: '<TASK_DEFINITION>', PlatformVersion: '1.4.0' },
            },
          },
        ],
      },
      properties: {
        TaskDefinition: TD,
        PlatformVersion: '1.4.0',
        LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
      },
      notes: 3,
    },
  ])('$name', ({ file, properties, notes }) => {
    const filled = fillAppSpec(file, FROM_SERVICE);
    expect(target(filled.appSpec)).toEqual({ Type: 'AWS::ECS::Service', Properties: properties });
    expect(filled.appSpec.version).toBe(0.0);
    expect(filled.notes).toHaveLength(notes);
    if (file && 'Hooks' in file) expect(filled.appSpec.Hooks).toEqual(file.Hooks);
  });

  test('the file is not changed in place', () => {
    const file = { Resources: [{ TargetService: { Properties: {} } }] };
    fillAppSpec(file, FROM_SERVICE);
    expect(file).toEqual({ Resources: [{ TargetService: { Properties: {} } }] });
  });

  test.each([
    { name: 'not an object', file: ['x'], message: /must be an object/ },
    {
      name: 'two target services',
      file: { Resources: [{ TargetService: {} }, { TargetService: {} }] },
      message: /exactly one `TargetService`/,
    },
    {
      name: 'a Lambda target',
      file: { Resources: [{ TargetService: { Type: 'AWS::Lambda::Function' } }] },
      message: /needs `AWS::ECS::Service`/,
    },
    {
      name: 'a port that is no port',
      file: {
        Resources: [
          { TargetService: { Properties: { LoadBalancerInfo: { ContainerPort: 'http' } } } },
        ],
      },
      message: /ContainerPort` is `http`/,
    },
  ])('refuses $name', ({ file, message }) => {
    expect(() => fillAppSpec(file, FROM_SERVICE)).toThrow(AppSpecError);
    expect(() => fillAppSpec(file, FROM_SERVICE)).toThrow(message);
  });

  test('a service without a load balancer needs the container in the file', () => {
    expect(() => fillAppSpec(undefined, { taskDefinitionArn: TD })).toThrow(
      /no `LoadBalancerInfo.ContainerName` and the service has no load balancer/,
    );
    const filled = fillAppSpec(
      {
        Resources: [
          {
            TargetService: {
              Properties: { LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 3000 } },
            },
          },
        ],
      },
      { taskDefinitionArn: TD },
    );
    expect(target(filled.appSpec).Properties).toMatchObject({
      LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 3000 },
    });
  });
});
