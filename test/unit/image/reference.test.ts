import {
  formatRef,
  parseEcrHost,
  parseImageRef,
  parseRepository,
} from '../../../packages/image/src/reference';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

describe('repository references', () => {
  it.each([
    ['api', { registry: undefined, repository: 'api' }],
    ['team/api', { registry: undefined, repository: 'team/api' }],
    [`${ECR}/team/api`, { registry: ECR, repository: 'team/api' }],
    ['127.0.0.1:4566/api', { registry: '127.0.0.1:4566', repository: 'api' }],
    ['localhost/api', { registry: 'localhost', repository: 'api' }],
  ])('parses %s', (text, expected) => {
    expect(parseRepository(text)).toEqual(expected);
  });

  it.each([
    '',
    'API',
    'api:latest',
    `${ECR}/api@${DIGEST}`,
    'team//api',
    'a',
    '../api',
    './api',
    'host..example.com/api',
    'example.com:0/api',
  ])('rejects %j', (text) => {
    expect(parseRepository(text)).toBeUndefined();
  });

  it.each([
    [ECR, { accountId: '123456789012', region: 'eu-west-1' }],
    [
      '210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn',
      { accountId: '210987654321', region: 'cn-north-1' },
    ],
    ['127.0.0.1:4566', undefined],
    ['ghcr.io', undefined],
  ])('reads account and region of %s', (host, expected) => {
    expect(parseEcrHost(host)).toEqual(expected);
  });
});

describe('image references', () => {
  it.each([
    ['abc1234', { tag: 'abc1234' }],
    [DIGEST, { digest: DIGEST }],
    [
      'api-staging:abc1234',
      { registry: undefined, repository: 'api-staging', tag: 'abc1234', digest: undefined },
    ],
    [
      `api-staging@${DIGEST}`,
      { registry: undefined, repository: 'api-staging', tag: undefined, digest: DIGEST },
    ],
    [`${ECR}/team/api:v1`, { registry: ECR, repository: 'team/api', tag: 'v1', digest: undefined }],
    [
      `127.0.0.1:4566/api:v1@${DIGEST}`,
      { registry: '127.0.0.1:4566', repository: 'api', tag: 'v1', digest: DIGEST },
    ],
  ])('parses %s', (text, expected) => {
    expect(parseImageRef(text)).toEqual(expected);
  });

  it.each(['', 'team/api', `api@sha256:xyz`, 'api:bad tag', ':v1'])('rejects %j', (text) => {
    expect(parseImageRef(text)).toBeUndefined();
  });

  it('formats tag and digest references', () => {
    expect(formatRef(ECR, 'api', 'v1')).toBe(`${ECR}/api:v1`);
    expect(formatRef(ECR, 'api', DIGEST)).toBe(`${ECR}/api@${DIGEST}`);
  });
});
