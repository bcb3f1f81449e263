import { redactUrl } from '../../../packages/kit/src/redact';

let masked: string[];
let writeSpy: jest.SpyInstance;
beforeEach(() => {
  masked = [];
  writeSpy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      const m = /^::add-mask::(.*)$/m.exec(String(chunk));
      if (m) masked.push(m[1].replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'));
      return true;
    });
});
afterEach(() => writeSpy.mockRestore());

const TOKEN = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';

describe('redactUrl', () => {
  test.each<[string, string, string, string[]]>([
    [
      'a URL without credentials',
      'https://svc.example.com/health',
      'https://svc.example.com/health',
      [],
    ],
    [
      'a token as the user name',
      `https://${TOKEN}@svc.example.com/health`,
      'https://***@svc.example.com/health',
      [TOKEN],
    ],
    [
      'a token as the user name with x-oauth-basic as the password',
      `https://${TOKEN}:x-oauth-basic@svc.example.com/repo`,
      'https://***:***@svc.example.com/repo',
      [TOKEN, 'x-oauth-basic'],
    ],
    [
      'a user name and a password',
      'https://deployer:pa55word@svc.example.com/health',
      'https://***:***@svc.example.com/health',
      ['deployer', 'pa55word'],
    ],
    [
      'percent-encoded userinfo, masked as written and decoded',
      'https://us%40er:p%3Ass@svc.example.com/',
      'https://***:***@svc.example.com/',
      ['us%40er', 'us@er', 'p%3Ass', 'p:ss'],
    ],
    [
      'a credential-like query parameter',
      'https://svc.example.com/health?token=abc&x=1',
      'https://svc.example.com/health?token=***&x=1',
      ['abc'],
    ],
    [
      'a repeated credential-like query parameter',
      'https://svc.example.com/h?api_key=abc&api_key=def',
      'https://svc.example.com/h?api_key=***',
      ['abc', 'def'],
    ],
    [
      'text the URL parser refuses, with a token as the user name',
      `https://${TOKEN}@svc example.com/health`,
      'https://***@svc example.com/health',
      [TOKEN],
    ],
    [
      'text the URL parser refuses, with user name and password',
      `http://${TOKEN}:x-oauth-basic@[bad/health`,
      'http://***@[bad/health',
      [`${TOKEN}:x-oauth-basic`, TOKEN, 'x-oauth-basic'],
    ],
  ])('%s', (_name, url, shown, secrets) => {
    expect(redactUrl(url)).toBe(shown);
    expect(masked).toEqual(secrets);
  });
});
