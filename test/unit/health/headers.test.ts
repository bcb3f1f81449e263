import { maskHeaderValues, parseHeaders } from '../../../actions/health-gate/src/headers';
import { ConfigurationError } from '../../../packages/kit/src/errors';

let masked: string[];
let writeSpy: jest.SpyInstance;
beforeEach(() => {
  masked = [];
  writeSpy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      const m = /^::add-mask::(.*)$/m.exec(String(chunk));
      if (m) masked.push(m[1].replace(/%25/g, '%'));
      return true;
    });
});
afterEach(() => writeSpy.mockRestore());

const SECRET = 'tok_9f8e7d6c5b4a';

describe('the headers input', () => {
  test('parses one `Name: value` per line, values may hold colons', () => {
    expect(parseHeaders(`X-Api-Key: ${SECRET}\n\nAccept:application/json\nX-Time: 12:30`)).toEqual({
      'X-Api-Key': SECRET,
      Accept: 'application/json',
      'X-Time': '12:30',
    });
  });

  test.each<[string, string, RegExp]>([
    [
      'a line without a colon',
      `Authorization Bearer ${SECRET}`,
      /^Input `headers` must be one `Name: value` per line; line 1 has no `:` \(the line is not shown/,
    ],
    [
      'a bad header name',
      `Authorization Bearer: ${SECRET}`,
      /line 1 does not start with a valid header name/,
    ],
    [
      'a bad second line',
      `Accept: application/json\nAuthorization Bearer ${SECRET}`,
      /line 2 has no `:`/,
    ],
    [
      'a control character in a value',
      `X-Api-Key: ${SECRET}\u0007`,
      /the value of `X-Api-Key` on line 1 holds a character a header value cannot hold/,
    ],
    [
      'a header set twice, whatever its case',
      `X-Api-Key: a\nx-api-key: ${SECRET}`,
      /^Input `headers` sets `x-api-key` more than once \(lines 1 and 2\)\.$/,
    ],
  ])('%s fails naming the line, never the value', (_name, text, message) => {
    let error: unknown;
    try {
      parseHeaders(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(SECRET);
    expect((error as Error).stack).not.toContain(SECRET);
  });

  test.each<[string, string, string[]]>([
    ['a value', `X-Api-Key: ${SECRET}`, [SECRET]],
    [
      'a scheme and credentials: both the value and the credentials',
      `Authorization: Bearer ${SECRET}`,
      [`Bearer ${SECRET}`, SECRET],
    ],
    [
      'a line without a colon: the line and each word after the first',
      `Authorization Bearer ${SECRET}`,
      [`Authorization Bearer ${SECRET}`, 'Bearer', SECRET],
    ],
    [
      'a bad name: the value, the line and each word after the first',
      `Authorization Bearer: ${SECRET}`,
      [SECRET, `Authorization Bearer: ${SECRET}`, 'Bearer', SECRET],
    ],
    ['nothing for an empty value', 'X-Empty:', []],
  ])('masks %s before parsing', (_name, text, secrets) => {
    maskHeaderValues(text);
    expect(masked).toEqual(secrets);
  });
});
