import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient, RegistryError } from '../../../packages/image/src/registry';
import { CancelledError } from '../../../packages/kit/src/errors';

let server: Server;
let baseUrl: string;
let handler: (req: IncomingMessage, res: ServerResponse) => void;
const pending: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of pending) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const auth = (): { baseUrl: string; username: string; password: string } => ({
  baseUrl,
  username: 'AWS',
  password: 'pw',
});

describe('registry client', () => {
  it.each([
    [
      'a JSON error',
      JSON.stringify({
        errors: [{ code: 'DENIED', message: 'no\n::add-mask::x\u001b[31m red\r\n##[error]y' }],
      }),
    ],
    ['a plain body', 'denied\n::set-output name=image::forged\n\u001b[0m'],
  ])('keeps %s from the registry on one line with no runner command', async (_name, body) => {
    handler = (_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(body);
    };
    const attempt = new RegistryClient(auth()).getManifest('api', 'v1');
    await expect(attempt).rejects.toThrow(RegistryError);
    const message = await attempt.catch((e: Error) => e.message);
    expect(message).toMatch(/^reading manifest api:v1: HTTP 403 /);
    expect(message).not.toMatch(/[\r\n]/);
    expect(message).not.toContain('\u001b');
    expect(message).not.toContain('##[');
  });

  it('stops a request in flight when the run is cancelled, with the cancel as the reason', async () => {
    const arrived = new Promise<void>((resolve) => {
      handler = (_req, res) => {
        pending.push(res); // never answered
        resolve();
      };
    });
    const controller = new AbortController();
    const attempt = new RegistryClient(auth(), controller.signal).getManifest('api', 'v1');
    await arrived;
    controller.abort(new CancelledError('the workflow was cancelled (SIGTERM)'));
    await expect(attempt).rejects.toThrow(CancelledError);
  });
});
