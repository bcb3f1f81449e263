import {
  expiryTime,
  planRetention,
  type RetentionItem,
} from '../../../packages/backup/src/retention';

const now = new Date('2026-03-31T12:00:00Z');
const daysAgo = (d: number, id = `b${d}`): RetentionItem => ({
  id,
  lastModified: new Date(now.getTime() - d * 86_400_000),
});
const deleted = (
  items: RetentionItem[],
  keepDays: number,
  keepLast: number,
  protect?: string[],
): string[] =>
  planRetention(items, { now, keepDays, keepLast, protect })
    .filter((d) => d.action === 'delete')
    .map((d) => d.id)
    .sort();

describe('expiryTime follows S3 lifecycle rounding', () => {
  it.each([
    ['2026-01-15T10:00:00Z', 30, '2026-02-15T00:00:00.000Z'],
    ['2026-01-15T00:00:00Z', 30, '2026-02-14T00:00:00.000Z'],
    ['2026-01-15T23:59:59Z', 1, '2026-01-17T00:00:00.000Z'],
    ['2026-02-28T12:00:00Z', 1, '2026-03-02T00:00:00.000Z'],
  ])('%s + %i days expires at %s', (lastModified, days, expected) => {
    expect(expiryTime(new Date(lastModified), days).toISOString()).toBe(expected);
  });
});

describe('planRetention', () => {
  it.each<[string, RetentionItem[], number, number, string[] | undefined, string[]]>([
    [
      'deletes nothing when every item is young',
      [0, 1, 2, 3].map((d) => daysAgo(d)),
      30,
      2,
      undefined,
      [],
    ],
    [
      'deletes items past keep-days beyond keep-last',
      [0, 10, 31, 40].map((d) => daysAgo(d)),
      30,
      2,
      undefined,
      ['b31', 'b40'],
    ],
    [
      'keeps the newest N even when all are old',
      [50, 60, 70].map((d) => daysAgo(d)),
      30,
      7,
      undefined,
      [],
    ],
    [
      'keeps exactly keep-last old items',
      [40, 41, 42, 43].map((d) => daysAgo(d)),
      30,
      2,
      undefined,
      ['b42', 'b43'],
    ],
    [
      'never deletes a protected item',
      [40, 41, 42].map((d) => daysAgo(d)),
      30,
      1,
      ['b42'],
      ['b41'],
    ],
    [
      'keeps an item on its last day (30.4 days old, expires at the next midnight)',
      [daysAgo(0), daysAgo(30.4, 'edge'), daysAgo(31, 'old')],
      30,
      1,
      undefined,
      ['old'],
    ],
    ['handles an empty listing', [], 30, 7, undefined, []],
  ])('%s', (_name, items, keepDays, keepLast, protect, expected) => {
    expect(deleted(items, keepDays, keepLast, protect)).toEqual(expected.sort());
  });

  it('orders by time, then by id for equal times, newest first', () => {
    const t = new Date('2026-03-01T00:00:00Z');
    const plan = planRetention(
      [
        { id: 'a', lastModified: t },
        { id: 'c', lastModified: t },
        { id: 'b', lastModified: new Date(t.getTime() + 1) },
      ],
      { now, keepDays: 1, keepLast: 2 },
    );
    expect(plan.map((d) => [d.id, d.rank, d.action])).toEqual([
      ['b', 1, 'keep'],
      ['c', 2, 'keep'],
      ['a', 3, 'delete'],
    ]);
  });

  it('explains every decision', () => {
    const plan = planRetention([daysAgo(1), daysAgo(5), daysAgo(45), daysAgo(50)], {
      now,
      keepDays: 30,
      keepLast: 2,
      protect: ['b1'],
    });
    expect(plan.map((d) => d.reason)).toEqual([
      "this run's backup",
      'one of the 2 newest (keep-last)',
      'older than 30 days (expired 2026-03-17) and not among the 2 newest',
      'older than 30 days (expired 2026-03-12) and not among the 2 newest',
    ]);
  });

  it('over 40 backups with made-up dates keeps 30 days and at least keep-last', () => {
    const items = Array.from({ length: 40 }, (_, i) =>
      daysAgo(i * 2 + 0.5, `k${String(i).padStart(2, '0')}`),
    );
    const plan = planRetention(items, { now, keepDays: 30, keepLast: 7 });
    // 0.5, 2.5, … 28.5 days (15 items) are within 30 days; 30.5 expires at the next midnight
    // after 30.5 days: 2026-03-31T00:00 ≤ now, so it goes.
    expect(plan.filter((d) => d.action === 'keep').map((d) => d.id)).toEqual(
      items.slice(0, 15).map((i) => i.id),
    );
    expect(plan.filter((d) => d.action === 'delete')).toHaveLength(25);
  });

  it.each([
    [{ keepLast: 0, keepDays: 30 }, /keep-last/],
    [{ keepLast: 1.5, keepDays: 30 }, /keep-last/],
    [{ keepLast: 3, keepDays: 0 }, /keep-days/],
  ])('refuses a policy that could delete everything: %o', (policy, message) => {
    expect(() => planRetention([daysAgo(40)], { now, ...policy })).toThrow(message);
  });

  it('refuses duplicate ids and invalid times', () => {
    expect(() =>
      planRetention([daysAgo(1, 'x'), daysAgo(2, 'x')], { now, keepDays: 1, keepLast: 1 }),
    ).toThrow(/twice/);
    expect(() =>
      planRetention([{ id: 'x', lastModified: new Date('nope') }], {
        now,
        keepDays: 1,
        keepLast: 1,
      }),
    ).toThrow(/time/);
  });
});

describe('planRetention with leftovers that cannot be restored', () => {
  const leftover = (d: number, id: string): RetentionItem => ({
    ...daysAgo(d, id),
    restorable: false,
  });

  it.each<[string, RetentionItem[], number, number, string[]]>([
    [
      'a newer leftover never takes the place of a verified backup in keep-last',
      [leftover(40, 'partial'), daysAgo(41, 'v1'), daysAgo(42, 'v2')],
      30,
      2,
      ['partial'],
    ],
    [
      'the newest restorable backups are kept however many leftovers are newer',
      [leftover(31, 'p1'), leftover(32, 'p2'), leftover(33, 'p3'), daysAgo(50, 'v1')],
      30,
      1,
      ['p1', 'p2', 'p3'],
    ],
    ['a leftover within keep-days is kept', [leftover(3, 'partial'), daysAgo(41, 'v1')], 30, 1, []],
    [
      'leftovers do not shorten keep-last for restorable backups',
      [daysAgo(40, 'v1'), leftover(41, 'p'), daysAgo(42, 'v2'), daysAgo(43, 'v3')],
      30,
      2,
      ['p', 'v3'],
    ],
  ])('%s', (_name, items, keepDays, keepLast, expected) => {
    expect(deleted(items, keepDays, keepLast)).toEqual(expected.sort());
  });

  it('marks leftovers and says why they are not counted', () => {
    const plan = planRetention([leftover(40, 'partial'), daysAgo(41, 'v1')], {
      now,
      keepDays: 30,
      keepLast: 1,
    });
    expect(plan.map((d) => [d.id, d.leftover, d.action])).toEqual([
      ['partial', true, 'delete'],
      ['v1', false, 'keep'],
    ]);
    expect(plan[0].reason).toMatch(
      /^no checksum, so it cannot be restored \(not counted toward keep-last\); older than 30 days/,
    );
  });
});
