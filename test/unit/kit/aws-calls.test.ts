import type { ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pkg from '../../../package.json';
import { runAction } from '../../support/run-action';

/**
 * An endpoint that holds every request without answering, except those `answer` picks (by their
 * 1-based number), which get an empty DescribeServices answer.
 */
async function silentEndpoint(answer: (n: number) => boolean = () => false): Promise<{
  url: string;
  held: ServerResponse[];
  userAgents: string[];
  firstRequest: Promise<void>;
  close(): Promise<void>;
}> {
  const held: ServerResponse[] = [];
  const userAgents: string[] = [];
  let arrived!: () => void;
  const firstRequest = new Promise<void>((resolve) => (arrived = resolve));
  let n = 0;
  const server = createServer((req, res) => {
    userAgents.push(req.headers['user-agent'] ?? '');
    if (answer(++n)) {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ services: [], failures: [] }));
      return;
    }
    held.push(res);
    arrived();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held,
    userAgents,
    firstRequest,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const script = join(__dirname, 'fixtures', 'ecs-call.ts');
const awsEnv = (endpoint: string): Record<string, string> => ({
  AWS_ENDPOINT_URL_ECS: endpoint,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
});

describe('AWS calls through a kit client', () => {
  test('SIGTERM aborts the call in flight: the process ends while the server still holds the request, through the action catch path, as Cancelled', async () => {
    const endpoint = await silentEndpoint();
    try {
      const run = await runAction('ecs-call', {
        script,
        env: awsEnv(endpoint.url),
        onStart: (child) => void endpoint.firstRequest.then(() => child.kill('SIGTERM')),
        killAfterMs: 60_000,
      });
      expect(endpoint.held.length).toBeGreaterThan(0);
      expect(endpoint.held.every((res) => !res.headersSent)).toBe(true);
      expect(run.code).toBe(1);
      expect(run.outputs['ended-in-catch']).toBe('true');
      expect(run.error).toBe('Cancelled: the workflow was cancelled (SIGTERM)');
    } finally {
      await endpoint.close();
    }
  });

  test('a call the catch path makes after the cancel still reaches AWS (cleanup), and the run ends as Cancelled', async () => {
    const endpoint = await silentEndpoint((n) => n > 1);
    try {
      const run = await runAction('ecs-call', {
        script,
        inputs: { cleanup: 'true' },
        env: awsEnv(endpoint.url),
        onStart: (child) => void endpoint.firstRequest.then(() => child.kill('SIGTERM')),
        killAfterMs: 60_000,
      });
      expect(run.outputs['cleanup-answered']).toBe('true');
      expect(run.error).toBe('Cancelled: the workflow was cancelled (SIGTERM)');
    } finally {
      await endpoint.close();
    }
  });

  test('every request names shipkit and its version in the user agent', async () => {
    const endpoint = await silentEndpoint();
    try {
      await runAction('ecs-call', {
        script,
        inputs: { 'call-timeout': '1s' },
        env: awsEnv(endpoint.url),
        killAfterMs: 60_000,
      });
      expect(endpoint.userAgents.length).toBeGreaterThan(0);
      for (const ua of endpoint.userAgents)
        expect(ua.split(' ')).toContain(`shipkit/${pkg.version}`);
    } finally {
      await endpoint.close();
    }
  });

  test('a call that gets no answer fails after its deadline with a message naming the service and operation', async () => {
    const endpoint = await silentEndpoint();
    try {
      const run = await runAction('ecs-call', {
        script,
        inputs: { 'call-timeout': '1s' },
        env: awsEnv(endpoint.url),
        killAfterMs: 60_000,
      });
      expect(endpoint.held.every((res) => !res.headersSent)).toBe(true);
      expect(run.code).toBe(1);
      expect(run.outputs['ended-in-catch']).toBe('true');
      expect(run.error).toBe(
        'ECS DescribeServices timed out: no answer within 1s (retries included), so the request was abandoned.',
      );
    } finally {
      await endpoint.close();
    }
  });

  test("a call still in flight when the step's own timeout ends is abandoned then, not at the per-call limit", async () => {
    const endpoint = await silentEndpoint();
    try {
      const run = await runAction('ecs-call', {
        script,
        inputs: { 'step-timeout': '1s' },
        env: awsEnv(endpoint.url),
        killAfterMs: 60_000,
      });
      expect(endpoint.held.length).toBeGreaterThan(0);
      expect(endpoint.held.every((res) => !res.headersSent)).toBe(true);
      expect(run.code).toBe(1);
      expect(run.outputs['ended-in-catch']).toBe('true');
      expect(run.error).toMatch(/^ECS DescribeServices timed out: no answer within \d+(ms|s) /);
      expect(run.error).not.toMatch(/within 3m/);
    } finally {
      await endpoint.close();
    }
  });
});
