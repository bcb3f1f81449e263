import { parseStatusRanges } from '../../../packages/health/src/expectations';
import { probe, type Target } from '../../../packages/health/src/probe';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFixture, type Fixture } from '../../support/http-fixture';
import { VirtualClock } from './virtual-clock';

/** A server that takes requests and never answers: only the probe's own timeout ends one. */
let stalled: { url: string; requests: IncomingMessage[]; server: Server };
let answering: Fixture;
beforeAll(async () => {
  const requests: IncomingMessage[] = [];
  const server = createServer((req) => requests.push(req));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  stalled = { url: `http://127.0.0.1:${port}`, requests, server };
  answering = await startFixture(() => ({ status: 503, body: 'warming up' }));
});
afterAll(async () => {
  stalled.server.closeAllConnections();
  await new Promise((ok) => stalled.server.close(ok));
  await answering.close();
});

const exp = { status: parseStatusRanges('200-299')!, json: [] };
const target = (url: string): Target => ({ url, displayUrl: url, method: 'GET', headers: {} });

describe('probe on an injected clock', () => {
  test('the request timeout runs on the clock: a stalled request fails as timed out at exactly the timeout', async () => {
    const clock = new VirtualClock();
    const sent = probe(target(stalled.url), exp, 5000, clock);
    // Time stands still until the clock is run: let the request reach the server first.
    while (stalled.requests.length === 0) await new Promise((r) => setImmediate(r));
    const result = await clock.run(sent);
    expect(result).toMatchObject({ ok: false, error: 'timed out after 5000ms', latencyMs: 5000 });
    expect(result.time).toBe(new Date(0).toISOString());
  });

  test('an answer is judged, and its latency read on the clock', async () => {
    // The clock is never run, so the timeout cannot fire: the real answer decides.
    const clock = new VirtualClock();
    const result = await probe(target(answering.url), exp, 5000, clock);
    expect(result).toMatchObject({
      ok: false,
      status: 503,
      error: 'status 503 is not in 200-299',
      latencyMs: 0,
    });
  });
});
