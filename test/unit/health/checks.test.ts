import { parseChecks, type CheckDefaults } from '../../../actions/health-gate/src/checks';
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
const DEFAULTS: CheckDefaults = {
  method: 'GET',
  headers: { Accept: 'application/json' },
  expectations: {
    status: [{ from: 200, to: 299 }],
    json: [{ path: ['status'], accepted: ['UP'], text: 'status=UP' }],
    body: undefined,
  },
};

describe('the checks input', () => {
  test('an entry with only a url takes the method, headers and expectations of the step', async () => {
    const [t] = await parseChecks('- url: https://api.example.com/health', DEFAULTS);
    expect(t).toEqual({
      url: 'https://api.example.com/health',
      displayUrl: 'https://api.example.com/health',
      method: 'GET',
      headers: { Accept: 'application/json' },
      expectations: DEFAULTS.expectations,
    });
  });

  test('each entry sets its own fields and inherits the others', async () => {
    const targets = await parseChecks(
      [
        '- url: https://api.example.com/health',
        '  expect-json: [status=healthy|UP, db.ok=true]',
        '  headers: {X-Api-Key: ' + SECRET + '}',
        '- url: https://web.example.com/',
        '  method: head',
        '  expect-status: 200,304',
        '  expect-json: ""',
        '  expect-body: <div id="app"',
        '  headers: "Accept: text/html"',
        '- {url: "https://api.example.com/ready", expect-status: 204, expect-body: ""}',
        '- {url: "https://api.example.com/live", expect-status: [200, 300-302], headers: {X-Empty: }}',
      ].join('\n'),
      { ...DEFAULTS, expectations: { ...DEFAULTS.expectations, body: 'ok' } },
    );
    expect(targets.map((t) => [t.method, t.headers, t.expectations])).toEqual([
      [
        'GET',
        { 'X-Api-Key': SECRET },
        {
          status: [{ from: 200, to: 299 }],
          json: [
            { path: ['status'], accepted: ['healthy', 'UP'], text: 'status=healthy|UP' },
            { path: ['db', 'ok'], accepted: ['true'], text: 'db.ok=true' },
          ],
          body: 'ok',
        },
      ],
      [
        'HEAD',
        { Accept: 'text/html' },
        {
          status: [
            { from: 200, to: 200 },
            { from: 304, to: 304 },
          ],
          json: [],
          body: '<div id="app"',
        },
      ],
      [
        'GET',
        { Accept: 'application/json' },
        { status: [{ from: 204, to: 204 }], json: DEFAULTS.expectations.json, body: undefined },
      ],
      [
        'GET',
        { 'X-Empty': '' },
        {
          status: [
            { from: 200, to: 200 },
            { from: 300, to: 302 },
          ],
          json: DEFAULTS.expectations.json,
          body: 'ok',
        },
      ],
    ]);
    expect(masked).toContain(SECRET);
  });

  test('credentials in an entry url are masked and left out of its display url', async () => {
    const [t] = await parseChecks(`- url: https://deployer:pa55word@api.example.com/`, DEFAULTS);
    expect(t.url).toBe('https://deployer:pa55word@api.example.com/');
    expect(t.displayUrl).not.toContain('pa55word');
    expect(masked).toContain('pa55word');
  });

  test.each<[string, string, RegExp]>([
    ['text that is not YAML', '- url: [unclosed', /^Input `checks` is not valid YAML \(line \d+/],
    ['a mapping instead of a list', 'url: https://a.example.com', /must be a YAML list/],
    ['an empty list', '[]', /must be a YAML list/],
    ['an entry that is not a mapping', '- https://a.example.com', /entry 1 must be a mapping/],
    ['an entry without url', '- method: GET', /^Input `checks`: entry 1, `url` is required/],
    [
      'a url that is not http',
      '- url: https://a.example.com\n- url: ftp://b.example.com',
      /^Input `checks`: entry 2, `url` must be an http:\/\/ or https:\/\/ URL; got `ftp:/,
    ],
    ['a url that is not text', '- url: {a: 1}', /entry 1, `url` must be an http/],
    [
      'the same url twice',
      '- url: https://a.example.com/\n- url: https://a.example.com/',
      /entries 1 and 2 probe the same `url`/,
    ],
    [
      'an unknown field',
      '- url: https://a.example.com\n  expect_status: 200',
      /entry 1 has an unknown field `expect_status`/,
    ],
    [
      'a bad method',
      '- url: https://a.example.com\n  method: FETCH',
      /entry 1, `method` must be one of GET/,
    ],
    [
      'a status list holding a mapping',
      '- url: https://a.example.com\n  expect-status: [200, {a: 1}]',
      /entry 1, `expect-status` must be status codes/,
    ],
    [
      'a bad status',
      '- url: https://a.example.com\n  expect-status: 2xx',
      /entry 1, `expect-status` must be status codes.*got `2xx`/,
    ],
    [
      'a bad json assertion',
      '- url: https://a.example.com\n  expect-json: [status]',
      /entry 1, `expect-json` must be one `path=value`.*got `status`/,
    ],
    [
      'a body that is not text',
      '- url: https://a.example.com\n  expect-body: [a]',
      /entry 1, `expect-body` must be a text/,
    ],
  ])('%s is refused, the message naming checks and where', async (_name, text, message) => {
    const error = await parseChecks(text, DEFAULTS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
  });

  test.each<[string, string, RegExp]>([
    [
      'a line without a colon',
      `- url: https://a.example.com\n  headers: "Authorization Bearer ${SECRET}"`,
      /^Input `checks`: entry 1, `headers` must be one `Name: value` per line; line 1 has no `:`/,
    ],
    [
      'a name that is not a header name',
      `- url: https://a.example.com\n  headers: {"Authorization Bearer ${SECRET}": x}`,
      /entry 1, `headers` holds a name that is not a valid header name/,
    ],
    [
      'a value that is a list',
      `- url: https://a.example.com\n  headers: {Authorization: [Bearer, ${SECRET}]}`,
      /entry 1, `headers`: the value of `Authorization` must be one line of text/,
    ],
    [
      'a list instead of a mapping',
      `- url: https://a.example.com\n  headers: ["Authorization: Bearer ${SECRET}"]`,
      /entry 1, `headers` must be a mapping/,
    ],
    [
      'the same header twice',
      `- url: https://a.example.com\n  headers: {Authorization: "Bearer ${SECRET}", authorization: x}`,
      /entry 1, `headers` sets `authorization` more than once/,
    ],
    [
      'a bad entry after the one holding the token',
      `- url: https://a.example.com\n  headers: {Authorization: "Bearer ${SECRET}"}\n- url: nope`,
      /entry 2, `url` must be/,
    ],
  ])(
    'headers with %s are refused, the token masked and never in the message',
    async (_name, text, message) => {
      const error = await parseChecks(text, DEFAULTS).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(SECRET);
      expect(masked).toContain(SECRET);
    },
  );
});
