import { ECRClient } from '@aws-sdk/client-ecr';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sdkEcr } from '../../../packages/image/src/ecr';
import { CancelledError } from '../../../packages/kit/src/errors';

let server: Server;
let endpoint: string;
const pending: ServerResponse[] = [];
let arrived: () => void = () => undefined;

beforeAll(async () => {
  server = createServer((_req, res) => {
    pending.push(res); // ECR that never answers
    arrived();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of pending) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('stops an ECR call in flight when the run is cancelled, failing with the cancel', async () => {
  const client = new ECRClient({
    region: 'us-east-1',
    endpoint,
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const controller = new AbortController();
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const attempt = sdkEcr(client, controller.signal).describeRepository('api');
  await reached;
  controller.abort(new CancelledError('the workflow was cancelled (SIGTERM)'));
  await expect(attempt).rejects.toThrow(new CancelledError('the workflow was cancelled (SIGTERM)'));
  client.destroy();
});
