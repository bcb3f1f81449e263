import {
  AppSpecError,
  fillAppSpec,
  parseAppSpec,
} from '../../../packages/ecs/src/codedeploy/appspec';
import { AppSpecFileError } from '../../../packages/ecs/src/codedeploy/errors';

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

const HOOKED = {
  version: 0.0,
  Resources: [
    {
      TargetService: {
        Type: 'AWS::ECS::Service',
        Properties: {
          TaskDefinition: '<TASK_DEFINITION>',
          LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
          PlatformVersion: 'LATEST',
        },
      },
    },
  ],
  Hooks: [{ BeforeAllowTraffic: 'check-green' }, { AfterAllowTestTraffic: 'smoke' }],
};

const YAML_SPEC = `# hooks for the web service
version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 8080
        PlatformVersion: LATEST
Hooks:
  - BeforeAllowTraffic: check-green
  - AfterAllowTestTraffic: smoke
`;

describe('parseAppSpec', () => {
  test.each([
    { name: 'YAML', file: 'appspec.yaml', text: YAML_SPEC },
    { name: 'JSON', file: 'appspec.json', text: JSON.stringify(HOOKED, null, 2) },
    { name: 'JSON on one line in a .yml file', file: 'appspec.yml', text: JSON.stringify(HOOKED) },
    {
      name: 'JSON with a trailing comma (YAML flow style reads it)',
      file: 'appspec.json',
      text: JSON.stringify(HOOKED).replace(/\}$/, ',}'),
    },
  ])('$name gives the same AppSpec', ({ text, file }) => {
    expect(parseAppSpec(text, file)).toEqual(HOOKED);
    expect(fillAppSpec(parseAppSpec(text, file), FROM_SERVICE)).toEqual(
      fillAppSpec(HOOKED, FROM_SERVICE),
    );
  });

  test.each([
    {
      name: 'a YAML syntax error: its line and column',
      text: 'version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n     Properties: {}\n',
      message: /`appspec.yaml`.*not valid YAML or JSON \(line 5, column 1: BAD_INDENT\)/,
    },
    {
      name: 'a JSON syntax error: its line and column',
      text: '{\n  "version": 0.0,\n  "Resources": [ { "TargetService": { ] }\n}\n',
      message: /not valid YAML or JSON \(line 3, column \d+/,
    },
    {
      name: 'a duplicate key',
      text: 'version: 0.0\nversion: 1\n',
      message: /not valid YAML or JSON \(line 2, column 1: DUPLICATE_KEY\)/,
    },
    { name: 'a list', text: '- version: 0.0\n', message: /holds a list; an AppSpec is a mapping/ },
    { name: 'a string', text: 'secret-token-value\n', message: /holds a string; an AppSpec/ },
    { name: 'an empty file', text: '# nothing yet\n', message: /holds nothing; an AppSpec/ },
  ])('refuses $name', ({ text, message }) => {
    let thrown: unknown;
    try {
      parseAppSpec(text, 'appspec.yaml');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppSpecFileError);
    expect((thrown as AppSpecFileError).source).toBe('appspec.yaml');
    expect(`\`${(thrown as AppSpecFileError).source}\` ${(thrown as Error).message}`).toMatch(
      message,
    );
    // Never the file's content: at most its key names.
    expect((thrown as Error).message).not.toMatch(
      /secret-token-value|AWS::ECS::Service|check-green/,
    );
  });
});
