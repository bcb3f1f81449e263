/**
 * Listener rule conditions: how values with `*` and `?` match paths, hosts, headers and query
 * strings, and that no pattern can make matching take exponential time (a request to the
 * listener must not stall local-aws).
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { IncomingMessage } from 'node:http';
import { conditionMatches } from '../../../packages/local-aws/src/elb/listener-proxy';
import type { RuleCondition } from '../../../packages/local-aws/src/elb/model';
import { startLocalAwsProcess, type LocalAwsProcess } from './server-process';
import { freePort } from './support';

const request = (url: string, headers: Record<string, string> = {}): [IncomingMessage, URL] => [
  { method: 'GET', headers: { host: 'api.example.com:8080', ...headers } } as IncomingMessage,
  new URL(url, 'http://lb'),
];

const BACKTRACKING = `/${'*a'.repeat(20)}*b`;

test.each<[string, RuleCondition, string, Record<string, string>, boolean]>([
  ['a path with *', { Field: 'path-pattern', Values: ['/api/*'] }, '/api/users', {}, true],
  ['a path with ?', { Field: 'path-pattern', Values: ['/v?/x'] }, '/v2/x', {}, true],
  ['a path, case-sensitively', { Field: 'path-pattern', Values: ['/API/*'] }, '/api/x', {}, false],
  ['a path that is longer', { Field: 'path-pattern', Values: ['/api'] }, '/api/x', {}, false],
  ['a path with regex characters', { Field: 'path-pattern', Values: ['/a.b'] }, '/axb', {}, false],
  ['a path with two stars', { Field: 'path-pattern', Values: ['/*/x/*'] }, '/a/x/b', {}, true],
  ['a host, ignoring case and port', { Field: 'host-header', Values: ['API.*'] }, '/', {}, true],
  [
    'a header value',
    { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Env', Values: ['blue*'] } },
    '/',
    { 'x-env': 'blue-2' },
    true,
  ],
  [
    'a query string value',
    { Field: 'query-string', QueryStringConfig: { Values: [{ Key: 'v', Value: '2*' }] } },
    '/?v=21',
    {},
    true,
  ],
  [
    'a backtracking pattern, quickly',
    { Field: 'path-pattern', Values: [BACKTRACKING] },
    `/${'a'.repeat(5000)}`,
    {},
    false,
  ],
  [
    'a backtracking pattern that matches',
    { Field: 'path-pattern', Values: [BACKTRACKING] },
    `/${'a'.repeat(40)}b`,
    {},
    true,
  ],
])('a condition on %s', (_name, condition, url, headers, expected) => {
  expect(conditionMatches(condition, ...request(url, headers))).toBe(expected);
});

describe('a listener with a backtracking rule pattern', () => {
  let server: LocalAwsProcess;
  let elb: ElasticLoadBalancingV2Client;
  let port: number;

  beforeAll(async () => {
    server = await startLocalAwsProcess();
    elb = new ElasticLoadBalancingV2Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'patterns', Subnets: ['s'] })))
      .LoadBalancers![0];
    port = await freePort();
    const listener = (
      await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb.LoadBalancerArn,
          Protocol: 'HTTP',
          Port: port,
          DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
        }),
      )
    ).Listeners![0];
    await elb.send(
      new CreateRuleCommand({
        ListenerArn: listener.ListenerArn,
        Priority: 1,
        Conditions: [{ Field: 'path-pattern', Values: [BACKTRACKING] }],
        Actions: [
          {
            Type: 'fixed-response',
            FixedResponseConfig: { StatusCode: '200', MessageBody: 'matched' },
          },
        ],
      }),
    );
  });

  afterAll(async () => {
    elb?.destroy();
    await server?.stop();
  });

  test.each([
    ['a long path it does not match', `/${'a'.repeat(5000)}`, 404],
    ['a path it matches', `/${'a'.repeat(40)}b`, 200],
  ])('answers %s, and local-aws stays responsive', async (_name, path, status) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers: { connection: 'close' },
    });
    expect(res.status).toBe(status);
    expect(server.exited()).toBeUndefined();
    expect(await server.healthy()).toBe(true);
  });
});
