import type { Tag } from '@aws-sdk/client-ecs';
import {
  findByImage,
  findBySha,
  nearMissOfPrevious,
  parseTargetSpec,
  resolvePrevious,
  type HistoryEntry,
  type RevisionInfo,
} from '../../../packages/ecs/src/rollback-target';

const td = (n: number): string => `arn:aws:ecs:us-east-1:000000000000:task-definition/web:${n}`;
let clock = 0;
function entry(
  status: string,
  target: number,
  sources: number[] = [],
  extra: Partial<HistoryEntry> = {},
): HistoryEntry {
  clock += 60_000;
  return {
    serviceDeploymentArn: `sd/${clock}`,
    status,
    target: td(target),
    sources: sources.map(td),
    createdAt: new Date(clock),
    finishedAt: new Date(clock + 30_000),
    ...extra,
  };
}
const noTags = (): Tag[] => [];
/** The tags a shipkit rollback to `to` leaves, naming its own service deployment `by`. */
const markedBy = (to: string, by: string): Tag[] => [
  { key: 'shipkit:rolled-back-at', value: '2026-01-01T00:00:00Z' },
  { key: 'shipkit:rolled-back-to', value: to },
  { key: 'shipkit:rolled-back-by', value: by },
];

describe('resolvePrevious', () => {
  beforeEach(() => (clock = 0));

  test.each<
    [
      string,
      () => { current: number; history: HistoryEntry[]; tags?: Record<number, Tag[]> },
      string,
    ]
  >([
    [
      'picks the revision deployed before the current one',
      () => ({ current: 2, history: [entry('SUCCESSFUL', 1), entry('SUCCESSFUL', 2, [1])] }),
      'target web:1',
    ],
    [
      'counts an older deployment whose finish was recorded after the current one started',
      () => {
        const first = entry('SUCCESSFUL', 1);
        const second = entry('SUCCESSFUL', 2, [1]);
        first.finishedAt = new Date(second.createdAt!.getTime() + 5000);
        return { current: 2, history: [first, second] };
      },
      'target web:1',
    ],
    [
      'skips a revision whose deployment was rolled back by the circuit breaker',
      () => ({
        current: 3,
        history: [
          entry('SUCCESSFUL', 1),
          entry('ROLLBACK_SUCCESSFUL', 2, [1], { rolledBackTo: td(1) }),
          entry('SUCCESSFUL', 3, [1]),
        ],
      }),
      'target web:1',
    ],
    [
      'skips failed and stopped deployments',
      () => ({
        current: 4,
        history: [
          entry('SUCCESSFUL', 1),
          entry('ROLLBACK_FAILED', 2, [1]),
          entry('STOPPED', 3, [1]),
          entry('SUCCESSFUL', 4, [1]),
        ],
      }),
      'target web:1',
    ],
    [
      'skips a revision a shipkit rollback left',
      () => ({
        current: 4,
        history: [
          entry('SUCCESSFUL', 1),
          entry('SUCCESSFUL', 2, [1]),
          entry('SUCCESSFUL', 1, [2]),
          entry('SUCCESSFUL', 4, [1]),
        ],
        tags: {
          2: [
            { key: 'shipkit:rolled-back-at', value: '2026-01-01T00:00:00Z' },
            { key: 'shipkit:rolled-back-to', value: 'web:1' },
          ],
        },
      }),
      'target web:1',
    ],
    [
      'skips older deployments of the current revision itself',
      () => ({
        current: 2,
        history: [entry('SUCCESSFUL', 1), entry('SUCCESSFUL', 2, [1]), entry('SUCCESSFUL', 2, [2])],
      }),
      'target web:1',
    ],
    [
      'during a rolling deployment in progress, goes back to the revision before it',
      () => ({
        current: 3,
        history: [
          entry('SUCCESSFUL', 1),
          entry('SUCCESSFUL', 2, [1]),
          entry('IN_PROGRESS', 3, [2]),
        ],
      }),
      'target web:2',
    ],
    [
      'is a no-op when ECS already rolled back the latest deployment',
      () => ({
        current: 1,
        history: [
          entry('SUCCESSFUL', 1),
          entry('ROLLBACK_SUCCESSFUL', 2, [1], { rolledBackTo: td(1) }),
        ],
      }),
      'noop',
    ],
    [
      'is a no-op right after a shipkit rollback (no ping-pong)',
      () => ({
        current: 1,
        history: [entry('SUCCESSFUL', 1), entry('SUCCESSFUL', 2, [1]), entry('SUCCESSFUL', 1, [2])],
        tags: {
          2: [
            { key: 'shipkit:rolled-back-at', value: '2026-01-01T00:00:00Z' },
            { key: 'shipkit:rolled-back-to', value: 'web:1' },
          ],
        },
      }),
      'noop',
    ],
    [
      'finds nothing when the current revision is the only one deployed',
      () => ({ current: 1, history: [entry('SUCCESSFUL', 1)] }),
      'not-found',
    ],
    [
      'finds nothing when every earlier deployment failed',
      () => ({
        current: 3,
        history: [
          entry('ROLLBACK_SUCCESSFUL', 1),
          entry('ROLLBACK_FAILED', 2),
          entry('SUCCESSFUL', 3),
        ],
      }),
      'not-found',
    ],
    [
      'a rollback ECS undid does not mark the revision it started from: `previous` after a new deploy names that revision',
      () => ({
        current: 4,
        history: [
          entry('SUCCESSFUL', 1),
          entry('SUCCESSFUL', 2, [1]),
          entry('SUCCESSFUL', 3, [2]),
          entry('ROLLBACK_SUCCESSFUL', 2, [3], {
            serviceDeploymentArn: 'sd/rollback-to-2',
            rolledBackTo: td(3),
          }),
          entry('SUCCESSFUL', 4, [3]),
        ],
        tags: { 3: markedBy('web:2', 'sd/rollback-to-2') },
      }),
      'target web:3',
    ],
    [
      'a rollback that held marks the revision it left: `previous` skips it',
      () => ({
        current: 4,
        history: [
          entry('SUCCESSFUL', 1),
          entry('SUCCESSFUL', 3, [1]),
          entry('SUCCESSFUL', 1, [3], { serviceDeploymentArn: 'sd/rollback-to-1' }),
          entry('SUCCESSFUL', 4, [1]),
        ],
        tags: { 3: markedBy('web:1', 'sd/rollback-to-1') },
      }),
      'target web:1',
    ],
    [
      'a rollback ECS undid, then another rollback that held: the second mark counts',
      () => ({
        current: 2,
        history: [
          entry('SUCCESSFUL', 1),
          entry('SUCCESSFUL', 2, [1]),
          entry('SUCCESSFUL', 3, [2]),
          entry('ROLLBACK_SUCCESSFUL', 2, [3], { serviceDeploymentArn: 'sd/first' }),
          entry('SUCCESSFUL', 2, [3], { serviceDeploymentArn: 'sd/second' }),
        ],
        tags: { 3: markedBy('web:2', 'sd/second') },
      }),
      'noop',
    ],
  ])('%s', (_name, make, expected) => {
    const { current, history, tags = {} } = make();
    const tagsOf = (arn: string): Tag[] => tags[Number(arn.split(':').pop())] ?? noTags();
    // History order must not matter: ECS lists newest first, tests give oldest first.
    const result = resolvePrevious(td(current), [...history].reverse(), tagsOf);
    const got = result.kind === 'target' ? `target ${result.target.split('/').pop()}` : result.kind;
    expect(got).toBe(expected);
  });
});

describe('parseTargetSpec', () => {
  test.each([
    ['', 'previous'],
    ['previous', 'previous'],
    ['arn:aws:ecs:eu-west-1:123456789012:task-definition/web:12', 'arn'],
    ['web:12', 'revision'],
    ['a1b2c3d', 'sha'],
    ['A1B2C3D4E5F60718293A4B5C6D7E8F9012345678', 'sha'],
    [`sha256:${'a'.repeat(64)}`, 'image'],
    ['v1.2.3', 'image'],
  ])('%p is read as %s', (text, kind) => {
    expect(parseTargetSpec(text)?.kind).toBe(kind);
  });

  test.each(['web:latest:1', 'has space', 'sha256:abc', '-leading-dash'])(
    '%p is rejected',
    (text) => {
      expect(parseTargetSpec(text)).toBeUndefined();
    },
  );
});

describe('resolvePrevious after a rollback that ECS undid says what happened', () => {
  beforeEach(() => (clock = 0));

  test('right after it, `previous` is a no-op whose sentence names the undone rollback and where the service is', () => {
    const history = [
      entry('SUCCESSFUL', 1),
      entry('SUCCESSFUL', 2, [1]),
      entry('SUCCESSFUL', 3, [2]),
      entry('ROLLBACK_SUCCESSFUL', 2, [3], { serviceDeploymentArn: 'sd/rollback-to-2' }),
    ];
    const result = resolvePrevious(td(3), history, (arn) =>
      arn === td(3) ? markedBy('web:2', 'sd/rollback-to-2') : [],
    );
    expect(result).toMatchObject({ kind: 'noop' });
    expect((result as { message: string }).message).toMatch(
      /^ECS already rolled back the latest deployment \(web:2, ROLLBACK_SUCCESSFUL\); the service is on web:3\./,
    );
  });

  test('after a new deploy, the sentence for the revision found is true: it completed a deployment before the current one', () => {
    const history = [
      entry('SUCCESSFUL', 1),
      entry('SUCCESSFUL', 2, [1]),
      entry('SUCCESSFUL', 3, [2]),
      entry('ROLLBACK_SUCCESSFUL', 2, [3], { serviceDeploymentArn: 'sd/rollback-to-2' }),
      entry('SUCCESSFUL', 4, [3]),
    ];
    const result = resolvePrevious(td(4), history, (arn) =>
      arn === td(3) ? markedBy('web:2', 'sd/rollback-to-2') : [],
    );
    expect(result).toMatchObject({ kind: 'target', target: td(3) });
    expect((result as { why: string }).why).toMatch(
      /^web:3 is the newest revision that completed a deployment before web:4/,
    );
  });
});

describe('nearMissOfPrevious', () => {
  test.each([
    'Previous',
    'PREVIOUS',
    'prev',
    'previos',
    'previus',
    'prevous',
    'last',
    'latest',
    'previ',
  ])('%p is a near-miss of `previous`, never an image tag', (text) => {
    expect(nearMissOfPrevious(text)).toBe(true);
  });

  test.each(['previous', 'v1.2.3', 'preview', 'prod', 'release-7', 'a1b2c3d', 'web:12'])(
    '%p is not',
    (text) => {
      expect(nearMissOfPrevious(text)).toBe(false);
    },
  );
});

describe('findBySha and findByImage', () => {
  const revisions: RevisionInfo[] = [
    {
      arn: td(3),
      tags: [
        { key: 'shipkit:git-sha', value: 'cafebabe00000000000000000000000000000003' },
        { key: 'shipkit:image:web', value: 'reg/web:v3' },
      ],
      images: [
        { container: 'web', image: 'reg/web:v3' },
        { container: 'proxy', image: 'envoy:v1' },
      ],
    },
    {
      arn: td(2),
      tags: [{ key: 'shipkit:git-sha', value: 'deadbeef00000000000000000000000000000002' }],
      images: [{ container: 'web', image: `reg/web@sha256:${'b'.repeat(64)}` }],
    },
    {
      arn: td(1),
      tags: [{ key: 'shipkit:git-sha', value: 'deadbeef00000000000000000000000000000001' }],
      images: [{ container: 'web', image: 'reg/web:v1' }],
    },
  ];

  test.each([
    ['cafebab', 'web:3'],
    ['DEADBEEF00000000000000000000000000000001', 'web:1'],
    ['deadbeef', 'web:2'],
    ['0123abc', undefined],
  ])('commit %s → %s (newest revision first)', (sha, expected) => {
    expect(findBySha(sha, revisions)?.arn.split('/').pop()).toBe(expected);
  });

  test.each([
    ['v1', 'web:1'],
    [`sha256:${'b'.repeat(64)}`, 'web:2'],
    ['v3', 'web:3'],
    ['v9', undefined],
  ])('image %s → %s', (version, expected) => {
    expect(findByImage(version, revisions)?.arn.split('/').pop()).toBe(expected);
  });

  test('ignores a sidecar whose image shipkit did not set', () => {
    expect(findByImage('v1', [revisions[0]])).toBeUndefined();
  });
});
