import type { TaskDefinition } from '@aws-sdk/client-ecs';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import { parseImageRef, withImageVersion } from '../../../packages/ecs/src/image-ref';
import { unknownTaskDefinitionFields, withoutFields } from '../../../packages/ecs/src/sdk-fields';
import {
  diffTaskDefinitions,
  describeChange,
  fromDescribed,
  loadTaskDefinitionJson,
  provenanceTags,
  renderTaskDefinition,
  UnknownContainerError,
  sameTaskDefinition,
} from '../../../packages/ecs/src/task-definition';

const described: TaskDefinition = {
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:7',
  family: 'web',
  revision: 7,
  status: 'ACTIVE',
  compatibilities: ['EC2', 'FARGATE'],
  requiresCompatibilities: ['FARGATE'],
  requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
  registeredAt: new Date('2026-01-01T00:00:00Z'),
  registeredBy: 'arn:aws:iam::000000000000:role/deployer',
  networkMode: 'awsvpc',
  cpu: '256',
  memory: '512',
  containerDefinitions: [
    {
      name: 'web',
      image: 'reg/web:v1',
      essential: true,
      cpu: 0,
      portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
      environment: [
        { name: 'B', value: '2' },
        { name: 'A', value: '1' },
      ],
      mountPoints: [],
      volumesFrom: [],
    },
    { name: 'proxy', image: 'envoy:v1', essential: false },
  ],
  volumes: [],
};

describe('loadTaskDefinitionJson', () => {
  test('drops the read-only fields DescribeTaskDefinition returns', () => {
    const loaded = loadTaskDefinitionJson(JSON.parse(JSON.stringify(described)), 'file');
    expect(loaded.readOnlyDropped.sort()).toEqual(
      [
        'compatibilities',
        'registeredAt',
        'registeredBy',
        'requiresAttributes',
        'revision',
        'status',
        'taskDefinitionArn',
      ].sort(),
    );
    expect(loaded.definition).not.toHaveProperty('taskDefinitionArn');
  });

  test('accepts the output of describe-task-definition with its tags', () => {
    const loaded = loadTaskDefinitionJson(
      { taskDefinition: described, tags: [{ key: 'team', value: 'shop' }] },
      'file',
    );
    expect(loaded.definition.family).toBe('web');
    expect(loaded.tags).toEqual([{ key: 'team', value: 'shop' }]);
  });

  test.each([
    [[], 'must hold a JSON object'],
    [{ containerDefinitions: [{ name: 'web' }] }, 'has no `family`'],
    [{ family: 'web', containerDefinitions: [] }, 'has no `containerDefinitions`'],
    [
      { family: 'web', containerDefinitions: [{ image: 'x' }] },
      'container definition 1 has no `name`',
    ],
  ])('rejects %j', (json, message) => {
    expect(() => loadTaskDefinitionJson(json, 'file')).toThrow(ConfigurationError);
    expect(() => loadTaskDefinitionJson(json, 'file')).toThrow(message);
  });
});

describe('fields the pinned SDK does not know', () => {
  const json = {
    family: 'web',
    newTopLevelSetting: true,
    containerDefinitions: [
      {
        name: 'web',
        image: 'x',
        futureOption: { a: 1 },
        portMappings: [{ containerPort: 80, brandNew: 1 }],
      },
    ],
  };

  test('are listed by path', () => {
    expect(unknownTaskDefinitionFields(json)).toEqual([
      'newTopLevelSetting',
      'containerDefinitions[web].futureOption',
      'containerDefinitions[web].portMappings[0].brandNew',
    ]);
  });

  test('are removed without touching known ones', () => {
    const cleaned = withoutFields(json, unknownTaskDefinitionFields(json));
    expect(cleaned).toEqual({
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'x', portMappings: [{ containerPort: 80 }] }],
    });
    expect(json).toHaveProperty('newTopLevelSetting');
  });
});

describe('renderTaskDefinition', () => {
  const source = fromDescribed(described, [
    { key: 'team', value: 'shop' },
    { key: 'shipkit:rolled-back-at', value: 'x' },
  ]);

  test('sets images and variables, merges tags, keeps the source untouched', () => {
    const images = new Map([['web', 'reg/web:v2']]);
    const rendered = renderTaskDefinition(source, {
      images,
      environment: new Map([
        [
          'web',
          new Map([
            ['A', 'one'],
            ['C', '3'],
          ]),
        ],
      ]),
      tags: provenanceTags({ gitSha: 'abc1234', workflowRun: 'octo/shop/actions/runs/1', images }),
      source: 'the running revision',
    });
    expect(rendered.containerDefinitions![0].image).toBe('reg/web:v2');
    expect(rendered.containerDefinitions![0].environment).toEqual([
      { name: 'B', value: '2' },
      { name: 'A', value: 'one' },
      { name: 'C', value: '3' },
    ]);
    expect(rendered.tags).toEqual([
      { key: 'team', value: 'shop' },
      { key: 'shipkit:git-sha', value: 'abc1234' },
      { key: 'shipkit:workflow-run', value: 'octo/shop/actions/runs/1' },
      { key: 'shipkit:image:web', value: 'reg/web:v2' },
    ]);
    expect(source.definition.containerDefinitions![0].image).toBe('reg/web:v1');
  });

  test('names an unknown container and the ones that exist', () => {
    expect(() =>
      renderTaskDefinition(source, {
        images: new Map([['api', 'x:1']]),
        environment: new Map(),
        tags: [],
        source: 'task definition file `td.json`',
      }),
    ).toThrow(
      new UnknownContainerError('images', 'api', 'task definition file `td.json`', [
        'web',
        'proxy',
      ]),
    );
  });

  test('records the digest of an image pinned by digest', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    expect(provenanceTags({ images: new Map([['web', `reg/web@${digest}`]]) })).toEqual([
      { key: 'shipkit:image:web', value: digest },
    ]);
  });
});

describe('sameTaskDefinition and diffTaskDefinitions', () => {
  const base = fromDescribed(described).definition;

  test('the running revision equals its own registrable form, whatever ECS filled in', () => {
    const minimal = {
      family: 'web',
      networkMode: 'awsvpc' as const,
      requiresCompatibilities: ['FARGATE' as const],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'web',
          image: 'reg/web:v1',
          portMappings: [{ containerPort: 8080 }],
          environment: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
          ],
        },
        { name: 'proxy', image: 'envoy:v1', essential: false },
      ],
    };
    expect(sameTaskDefinition(minimal, described)).toBe(true);
    expect(diffTaskDefinitions(described, minimal)).toEqual([]);
  });

  test.each([
    [
      'an image',
      (d: typeof base) => (d.containerDefinitions![0].image = 'reg/web:v2'),
      'web image: reg/web:v1 → reg/web:v2',
    ],
    [
      'a variable',
      (d: typeof base) => (d.containerDefinitions![0].environment = [{ name: 'A', value: '1' }]),
      'web env B: removed',
    ],
    ['the task memory', (d: typeof base) => (d.memory = '1024'), 'task memory: 512 → 1024'],
    [
      // Found by trying a task definition file whose family was mistyped: the dry run listed no change.
      'the family',
      (d: typeof base) => (d.family = 'web-typo'),
      'task family: web → web-typo (a revision of another family)',
    ],
    [
      'another setting',
      (d: typeof base) => (d.containerDefinitions![1].essential = true),
      'other settings changed (see the registered revision)',
    ],
  ])('a change of %s is seen and described', (_what, change, line) => {
    const next = structuredClone(base);
    change(next);
    expect(sameTaskDefinition(next, described)).toBe(false);
    expect(diffTaskDefinitions(described, next).map(describeChange)).toEqual([line]);
  });
});

describe('environment values in the change list', () => {
  const env = (from: string | undefined, to: string | undefined, name = 'LOG_LEVEL') =>
    describeChange({ kind: 'environment', container: 'web', name, from, to });

  test.each([
    ['a plain value is shown', env('info', 'debug'), 'web env LOG_LEVEL: info → debug'],
    ['an added plain value is shown', env(undefined, 'debug'), 'web env LOG_LEVEL: added (debug)'],
    [
      'a URL loses its user name and password',
      env(undefined, 'postgres://app:Sup3rS3cret@db/app', 'DATABASE_URL'),
      'web env DATABASE_URL: added (postgres://***:***@db/app)',
    ],
    [
      "a URL's credential query parameters are hidden",
      env('https://hooks/x?token=abc', 'https://hooks/y?token=def', 'HOOK'),
      'web env HOOK: https://hooks/x?token=*** → https://hooks/y?token=***',
    ],
    [
      'a value whose name says token is hidden when added',
      env(undefined, 'tok_live_abcdef', 'API_TOKEN'),
      'web env API_TOKEN: added (value hidden)',
    ],
    [
      'a value whose name says password is hidden when changed',
      env('old', 'new', 'DB_PASSWORD'),
      'web env DB_PASSWORD: changed (values hidden)',
    ],
    [
      'a removed secret says only removed',
      env('x', undefined, 'SECRET_KEY'),
      'web env SECRET_KEY: removed',
    ],
  ])('%s', (_what, line, expected) => {
    expect(line).toBe(expected);
  });
});

describe('image references', () => {
  test.each([
    ['nginx', { repository: 'nginx' }],
    [
      'reg.example.com:5000/team/web:v1',
      { registry: 'reg.example.com:5000', repository: 'team/web', tag: 'v1' },
    ],
    [
      '127.0.0.1:4566/web@sha256:' + 'a'.repeat(64),
      { registry: '127.0.0.1:4566', repository: 'web', digest: 'sha256:' + 'a'.repeat(64) },
    ],
    ['localhost/web:latest', { registry: 'localhost', repository: 'web', tag: 'latest' }],
  ])('%s parses', (text, parts) => {
    expect(parseImageRef(text)).toEqual(expect.objectContaining(parts));
  });

  test.each(['', 'Web:v1', 'web:', 'web@sha256:abc', 'web:v1 ', 'reg/web:bad tag', 'web::v1'])(
    '%p is malformed',
    (text) => {
      expect(parseImageRef(text)).toBeUndefined();
    },
  );

  test('a version replaces a tag or pins a digest', () => {
    expect(withImageVersion('reg:5000/web:v1', 'v0')).toBe('reg:5000/web:v0');
    expect(withImageVersion('reg:5000/web:v1', 'sha256:' + 'd'.repeat(64))).toBe(
      'reg:5000/web@sha256:' + 'd'.repeat(64),
    );
  });
});
