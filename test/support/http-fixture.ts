import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a fixture answers to the n-th request (1-based). */
export interface FixtureReply {
  status?: number;
  body?: string | object;
  delayMs?: number;
  headers?: Record<string, string>;
}

export interface Fixture {
  url: string;
  /** Requests received so far. */
  requests: IncomingMessage[];
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 whose reply to the n-th request is `reply(n)`. */
export async function startFixture(
  reply: (n: number, req: IncomingMessage) => FixtureReply,
): Promise<Fixture> {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req);
    const r = reply(requests.length, req);
    const send = (): void => {
      const body =
        typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? { status: 'healthy' });
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
      res.end(body);
    };
    if (r.delayMs) setTimeout(send, r.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
