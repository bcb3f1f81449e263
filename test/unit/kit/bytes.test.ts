import { formatBytes } from '../../../packages/kit/src/bytes';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [10 * 1024 - 1, '10.0 KiB'],
    [10 * 1024, '10.0 KiB'],
    [123_456, '120.6 KiB'],
    [1024 * 1024 - 1, '1.00 MiB'],
    [1024 * 1024, '1.00 MiB'],
    [5 * 1024 * 1024, '5.00 MiB'],
    [734_003_200, '700.0 MiB'],
    [1024 ** 3 - 1, '1.00 GiB'],
    [3.5 * 1024 ** 4, '3.50 TiB'],
    [2048 * 1024 ** 5, '2048.0 PiB'],
  ])('shows %d bytes as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it.each([
    [512, '512 B'],
    [1536, '1.50 KiB (1536 bytes)'],
    [5 * 1024 * 1024, '5.00 MiB (5242880 bytes)'],
  ])('adds the exact count of %d bytes when asked', (bytes, text) => {
    expect(formatBytes(bytes, { exact: true })).toBe(text);
  });

  it.each([
    [-1, '-1 bytes'],
    [Number.NaN, 'NaN bytes'],
    [Number.POSITIVE_INFINITY, 'Infinity bytes'],
  ])('prints a count that is no size (%d) as it is', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
