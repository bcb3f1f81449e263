import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A proxy in front of an S3 endpoint that holds the requests a test picks until released. */
export interface HoldProxy {
  endpoint: string;
  /** Requests held so far. */
  held(): number;
  /** Resolves when the first request is held. */
  firstHeld: Promise<void>;
  /** Forwards the held requests whose client is still waiting, and every later one. */
  release(): void;
  stop(): Promise<void>;
}

/** Starts a proxy to `target` that holds every request `hold` picks. */
export async function startHoldProxy(
  target: string,
  hold: (req: IncomingMessage) => boolean,
): Promise<HoldProxy> {
  const to = new URL(target);
  let released = false;
  let held = 0;
  let onFirst: () => void = () => undefined;
  const firstHeld = new Promise<void>((ok) => (onFirst = ok));
  const waiting: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const forward = (): void => {
      // A client that gave up (a cancelled call) sends nothing on.
      if (res.closed || req.socket.destroyed) return;
      const upstream = request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    if (!released && hold(req)) {
      held++;
      req.pause();
      waiting.push(forward);
      onFirst();
      return;
    }
    forward();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held,
    firstHeld,
    release() {
      released = true;
      for (const go of waiting.splice(0)) go();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
