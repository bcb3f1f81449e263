import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A deployment as the fake stores it. */
export interface FakeDeployment {
  id: number;
  ref: string;
  environment: string;
  task: string;
  description?: string;
  payload: unknown;
  statuses: FakeDeploymentStatus[];
}

/** A deployment status as the fake stores it. */
export interface FakeDeploymentStatus {
  state: string;
  description?: string;
  environment_url?: string;
  log_url?: string;
}

/** A running fake of the GitHub Deployments REST API. */
export interface FakeGitHub {
  /** Base URL to hand to an action as `GITHUB_API_URL`. */
  url: string;
  /** The token it accepts (`Authorization: Bearer <token>` or `token <token>`). */
  token: string;
  deployments: FakeDeployment[];
  /** Every request, as `METHOD path`. */
  requests: string[];
  /** The environment variables an action needs to reach this fake as repository `owner/repo`. */
  env(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts a fake of the GitHub REST API's deployment endpoints on 127.0.0.1 (a free port):
 * `POST /repos/:owner/:repo/deployments`, `POST …/deployments/:id/statuses`, and the matching
 * `GET`s. It checks the token and the request bodies the way GitHub does (required fields,
 * valid states) and answers 401/404/422 like GitHub otherwise.
 */
export async function startFakeGitHub(
  opts: { token?: string; repository?: string } = {},
): Promise<FakeGitHub> {
  const token = opts.token ?? 'ghs_fake_token_0123456789';
  const repository = opts.repository ?? 'octo/shop';
  const deployments: FakeDeployment[] = [];
  const requests: string[] = [];
  const states = new Set([
    'error',
    'failure',
    'inactive',
    'in_progress',
    'queued',
    'pending',
    'success',
  ]);
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      requests.push(`${req.method} ${path}`);
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${token}` && auth !== `token ${token}`) {
        send(401, { message: 'Bad credentials' });
        return;
      }
      const prefix = `/repos/${repository}/deployments`;
      if (!path.startsWith(prefix)) {
        send(404, { message: 'Not Found' });
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        send(400, { message: 'Problems parsing JSON' });
        return;
      }
      const rest = path.slice(prefix.length);
      if (rest === '' && req.method === 'POST') {
        if (typeof body.ref !== 'string' || !body.ref) {
          send(422, { message: 'Invalid request: "ref" wasn\'t supplied.' });
          return;
        }
        const deployment: FakeDeployment = {
          id: deployments.length + 1001,
          ref: body.ref,
          environment: typeof body.environment === 'string' ? body.environment : 'production',
          task: typeof body.task === 'string' ? body.task : 'deploy',
          description: typeof body.description === 'string' ? body.description : undefined,
          payload: body.payload ?? {},
          statuses: [],
        };
        deployments.push(deployment);
        send(201, {
          id: deployment.id,
          ref: deployment.ref,
          environment: deployment.environment,
          task: deployment.task,
        });
        return;
      }
      if (rest === '' && req.method === 'GET') {
        send(200, deployments);
        return;
      }
      const match = /^\/(\d+)\/statuses$/.exec(rest);
      const deployment = match ? deployments.find((d) => d.id === Number(match[1])) : undefined;
      if (!match || !deployment) {
        send(404, { message: 'Not Found' });
        return;
      }
      if (req.method === 'GET') {
        send(200, deployment.statuses);
        return;
      }
      if (typeof body.state !== 'string' || !states.has(body.state)) {
        send(422, {
          message: `Invalid request: state ${JSON.stringify(body.state)} is not a valid state.`,
        });
        return;
      }
      deployment.statuses.push({
        state: body.state,
        description: typeof body.description === 'string' ? body.description : undefined,
        environment_url:
          typeof body.environment_url === 'string' ? body.environment_url : undefined,
        log_url: typeof body.log_url === 'string' ? body.log_url : undefined,
      });
      send(201, { id: deployment.statuses.length, state: body.state });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    token,
    deployments,
    requests,
    env: (extra = {}) => ({
      GITHUB_API_URL: url,
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_REPOSITORY: repository,
      GITHUB_SHA: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
      GITHUB_RUN_ID: '4242',
      ...extra,
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
