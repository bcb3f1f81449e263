import { ConfigurationError } from '../../../packages/kit/src/errors';
import { formatDuration, parseDuration } from '../../../packages/kit/src/duration';
import { InputParser, splitList } from '../../../packages/kit/src/inputs';

const parser = (values: Record<string, string>): InputParser =>
  new InputParser((name) => values[name] ?? '');

describe('parseDuration', () => {
  test.each<[string, number | undefined]>([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['45', 45_000],
    ['0', 0],
    [' 10s ', 10_000],
    ['', undefined],
    ['5 minutes', undefined],
    ['10x', undefined],
    ['s', undefined],
    ['-5s', undefined],
    ['5s garbage', undefined],
  ])('%j → %j', (text, ms) => expect(parseDuration(text)).toBe(ms));
});

describe('formatDuration', () => {
  test.each<[number, string]>([
    [850, '850ms'],
    [1000, '1s'],
    [12_340, '12.3s'],
    [245_000, '4m 05s'],
    [3_720_000, '1h 02m'],
  ])('%d → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('InputParser', () => {
  test.each<[string, () => unknown, unknown]>([
    ['bool true', () => parser({ x: 'true' }).bool('x', false), true],
    ['bool FALSE', () => parser({ x: 'FALSE' }).bool('x', true), false],
    ['bool default', () => parser({}).bool('x', true), true],
    ['int in bounds', () => parser({ x: '7' }).int('x', { min: 1, max: 10 }), 7],
    ['int default', () => parser({}).int('x', { default: 3 }), 3],
    ['number decimal', () => parser({ x: '12.5' }).number('x', { min: 0, max: 100 }), 12.5],
    ['duration default', () => parser({}).duration('x', { default: '5s' }), 5000],
    ['duration unset', () => parser({}).duration('x'), undefined],
    ['choice', () => parser({ x: 'b' }).choice('x', ['a', 'b'] as const), 'b'],
    [
      'list by commas and newlines',
      () => parser({ x: 'a, b\nc,,\n d ' }).list('x'),
      ['a', 'b', 'c', 'd'],
    ],
    ['lines keep commas', () => parser({ x: 'a,b\nc' }).lines('x'), ['a,b', 'c']],
    [
      'map keeps = in values',
      () => [...parser({ x: 'A=1\nB=x=y' }).map('x')],
      [
        ['A', '1'],
        ['B', 'x=y'],
      ],
    ],
    ['string default', () => parser({}).string('x', { default: 'd' }), 'd'],
  ])('%s', (_name, read, expected) => expect(read()).toEqual(expected));

  test.each<[string, () => unknown, string]>([
    [
      'bool yes',
      () => parser({ flag: 'yes' }).bool('flag', false),
      'Input `flag` must be `true` or `false`; got `yes`.',
    ],
    [
      'int below min',
      () => parser({ n: '0' }).int('n', { min: 1, max: 5 }),
      'Input `n` must be a whole number from 1 to 5; got `0`.',
    ],
    [
      'int not a number',
      () => parser({ n: '3.5' }).int('n', { min: 1 }),
      'Input `n` must be a whole number of at least 1; got `3.5`.',
    ],
    [
      'number above max',
      () => parser({ n: '101' }).number('n', { max: 100 }),
      'Input `n` must be a number of at most 100; got `101`.',
    ],
    [
      'duration',
      () => parser({ t: 'soon' }).duration('t'),
      'Input `t` must be a duration such as `250ms`, `30s`, `5m` or `1h` (a bare number is seconds); got `soon`.',
    ],
    [
      'duration below min',
      () => parser({ t: '10ms' }).duration('t', { min: 100 }),
      'at least 100ms; got `10ms`.',
    ],
    [
      'choice',
      () => parser({ c: 'z' }).choice('c', ['a', 'b'] as const),
      'Input `c` must be one of `a`, `b`; got `z`.',
    ],
    ['required', () => parser({}).required('r'), 'Input `r` is required and was not set.'],
    [
      'map without separator',
      () => parser({ m: 'novalue' }).map('m'),
      'Input `m` must be one `key=value` per line; got `novalue`.',
    ],
    [
      'map duplicate key',
      () => parser({ m: 'A=1\nA=2' }).map('m'),
      'Input `m` sets `A` more than once.',
    ],
  ])('rejects %s naming the input', (_name, read, message) => {
    expect(read).toThrow(ConfigurationError);
    expect(read).toThrow(message);
  });

  test('a secret value is never echoed in the error', () => {
    const read = (): unknown => parser({ token: 'hunter2' }).int('token');
    const p = parser({ token: 'hunter2' });
    expect(() => p.fail('token', 'hunter2', 'a token', true)).toThrow(
      'Input `token` must be a token.',
    );
    expect(read).toThrow(/hunter2/);
  });

  test('splitList drops blanks', () => expect(splitList(' , \n')).toEqual([]));
});
