import {
  ActionFailure,
  AwsCallTimeoutError,
  CancelledError,
  ConfigurationError,
  describeAwsError,
  isThrottlingError,
  isTransientAwsError,
} from '../../../packages/kit/src/errors';
import { failureMessage } from '../../../packages/kit/src/run';
import { redactUrl } from '../../../packages/kit/src/redact';
import { SummaryBuilder, cell } from '../../../packages/kit/src/summary';
import { markdownSafe } from '../../../packages/kit/src/log-text';

const awsError = Object.assign(new Error('Service not found.'), {
  name: 'ServiceNotFoundException',
  $fault: 'client',
  $metadata: { httpStatusCode: 400, requestId: 'req-123' },
  $service: 'ECS',
  $operation: 'UpdateService',
});

describe('failure messages', () => {
  test.each<[string, unknown, string]>([
    [
      'a user mistake',
      new ConfigurationError('Input `x` is required and was not set.'),
      'Invalid configuration: Input `x` is required and was not set.',
    ],
    [
      'an AWS error',
      awsError,
      'ECS UpdateService failed: ServiceNotFoundException: Service not found. (HTTP 400, request id req-123)',
    ],
    [
      'a cancellation',
      new CancelledError('the workflow was cancelled (SIGTERM)'),
      'Cancelled: the workflow was cancelled (SIGTERM)',
    ],
    ['a detected failure', new ActionFailure('Unhealthy: x'), 'Unhealthy: x'],
    ['anything else', new TypeError('x is not a function'), 'x is not a function'],
    ['a thrown string', 'plain', 'plain'],
  ])('%s', (_name, error, message) => expect(failureMessage(error)).toBe(message));

  test('throttling is recognised by the codes AWS uses', () => {
    expect(
      isThrottlingError(
        Object.assign(new Error('x'), { name: 'ThrottlingException', $metadata: {} }),
      ),
    ).toBe(true);
    expect(
      isThrottlingError(
        Object.assign(new Error('x'), { name: 'TooManyRequestsException', $metadata: {} }),
      ),
    ).toBe(true);
    expect(isThrottlingError(awsError)).toBe(false);
    expect(describeAwsError({ name: 'X', message: 'X', $metadata: {} })).toBe('AWS call failed: X');
  });
});

describe('redactUrl', () => {
  test.each<[string, string]>([
    ['https://svc.example.com/health', 'https://svc.example.com/health'],
    ['https://user:secret@svc.example.com/health', 'https://***:***@svc.example.com/health'],
    [
      'https://svc.example.com/health?token=abc&x=1',
      'https://svc.example.com/health?token=***&x=1',
    ],
    ['https://svc.example.com/h?api_key=abc', 'https://svc.example.com/h?api_key=***'],
  ])('%s', (url, shown) => expect(redactUrl(url)).toBe(shown));
});

describe('SummaryBuilder', () => {
  test('renders a verdict, facts without empty rows and escaped tables', () => {
    const md = new SummaryBuilder('Deploy')
      .verdict('success', 'done')
      .facts([
        ['Service', 'api'],
        ['Skipped', undefined],
      ])
      .table(['a', 'b'], [['x|y', 'line1\nline2']])
      .toMarkdown();
    expect(md).toContain('### ✅ Deploy: done');
    expect(md).toContain('| **Service** | api |');
    expect(md).not.toContain('Skipped');
    expect(md).toContain('| x\\|y | line1<br>line2 |');
    expect(cell(undefined)).toBe('');
  });

  test('a cell of text already made Markdown-safe keeps its escaped pipe as one escape (the row does not split)', () => {
    expect(cell(markdownSafe('exit 1 | grep x'))).toBe('exit 1 \\| grep x');
    expect(cell('a|b')).toBe('a\\|b');
    // A backslash before a pipe in the text: escaped backslash, then escaped pipe.
    expect(cell(markdownSafe('C:\\|x'))).toBe('C:\\\\\\|x');
  });
});

describe('isTransientAwsError', () => {
  const sdk = (name: string, extra: object = {}): Error =>
    Object.assign(new Error(name), { name, $metadata: {}, ...extra });
  test.each<[string, unknown, boolean]>([
    ['throttling', sdk('ThrottlingException'), true],
    ['a server fault', sdk('InternalFailure', { $fault: 'server' }), true],
    ['an HTTP 503', sdk('Unknown', { $metadata: { httpStatusCode: 503 } }), true],
    ['the SDK timing out an attempt', sdk('TimeoutError'), true],
    ['a service that is unavailable, named only', sdk('ServiceUnavailable'), true],
    ['a networking error the SDK names', sdk('NetworkingError'), true],
    [
      "undici's socket error",
      Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
      true,
    ],
    ['a call the kit abandoned', new AwsCallTimeoutError('ECS', 'DescribeServices', 1000), true],
    [
      'a reset connection',
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      true,
    ],
    ['a missing service', sdk('ServiceNotFoundException', { $fault: 'client' }), false],
    ['an HTTP 400', sdk('ValidationException', { $metadata: { httpStatusCode: 400 } }), false],
    ['a cancel', new CancelledError('the workflow was cancelled (SIGTERM)'), false],
    ['an abort', sdk('AbortError'), false],
    ['a plain bug', new TypeError('x is not a function'), false],
    ['nothing', undefined, false],
  ])('%s', (_what, error, transient) => expect(isTransientAwsError(error)).toBe(transient));
});

describe('AwsCallTimeoutError', () => {
  test('reads as a failure naming the service, the operation and the deadline', () =>
    expect(failureMessage(new AwsCallTimeoutError('S3', 'UploadPart', 90_000))).toBe(
      'S3 UploadPart timed out: no answer within 1m 30s (retries included), so the request was abandoned.',
    ));
});
