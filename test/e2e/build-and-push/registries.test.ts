/**
 * Image movement between real registries: promotion from another registry (blobs streamed from
 * one local-aws to another, digest unchanged), and the built sample image as local-aws unpacks
 * and runs it for ECS tasks.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sdkEcr, type EcrApi } from '../../../packages/image/src/ecr';
import { promote, registryLogin, resolveRepository } from '../../../packages/image/src/publish';
import { RegistryClient } from '../../../packages/image/src/registry';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import { buildOciImage, pushOciImage } from '../../support/oci-image';
import {
  buildSampleImage,
  ensureBuildah,
  privateStorageEnv,
  removePrivateStorage,
} from './sample-image';

let source: LocalAws;
let target: LocalAws;
let dir: string;
const clients: ECRClient[] = [];

function ecrOf(aws: LocalAws): EcrApi {
  const client = new ECRClient({
    region: 'us-east-1',
    endpoint: aws.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  clients.push(client);
  return sdkEcr(client);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  ensureBuildah();
  dir = mkdtempSync(join(tmpdir(), 'build-and-push-registries-'));
  source = await startLocalAws({ port: 0 });
  target = await startLocalAws({ port: 0 });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await source?.stop();
  await target?.stop();
  if (dir) removePrivateStorage(dir);
});

it('promotes from another registry by streaming the blobs, keeping the digest', async () => {
  const sourceEcr = ecrOf(source);
  const targetEcr = ecrOf(target);
  await resolveRepository(sourceEcr, { repository: 'api' }, true);
  const sourceLogin = await registryLogin(sourceEcr);
  const image = buildOciImage({
    layers: [{ 'app/a.js': 'a'.repeat(5000) }, { 'app/b.js': 'console.log(1)' }],
    config: { Cmd: ['node', '/app/a.js'] },
  });
  await pushOciImage(image, {
    registry: sourceLogin.auth.baseUrl,
    repository: 'api',
    tag: 'tested',
    username: sourceLogin.auth.username,
    password: sourceLogin.auth.password,
  });

  const { repository } = await resolveRepository(targetEcr, { repository: 'api-prod' }, true);
  const targetLogin = await registryLogin(targetEcr);
  const result = await promote({
    ecr: targetEcr,
    repository,
    host: targetLogin.host,
    from: { registry: source.registryHost, repository: 'api', tag: 'tested' },
    tags: ['production'],
    target: async () => new RegistryClient(targetLogin.auth),
    foreign: async (host) => {
      expect(host).toBe(source.registryHost);
      return { ecr: sourceEcr, login: sourceLogin };
    },
  });
  expect(result).toMatchObject({ digest: image.digest, mode: 'copy' });
  const layerBytes = image.layers.reduce((n, l) => n + l.data.length, 0);
  expect(result.stats).toEqual({
    blobsUploaded: 3,
    bytesUploaded: layerBytes + image.config.data.length,
    blobsMounted: 0,
    blobsPresent: 0,
  });
  expect(result.sizeBytes).toBe(layerBytes);
  const stored = await targetEcr.describeImage('api-prod', { tag: 'production' });
  expect(stored?.digest).toBe(image.digest);
});

it('builds the sample image that local-aws unpacks and runs as a healthy service', async () => {
  const run = await buildSampleImage({
    endpoint: target.endpoint,
    repository: 'sample',
    dir,
    extraEnv: privateStorageEnv(dir),
  });
  const materialized = await target.ecr.imageStore.materialize(run.image);
  expect(materialized.digest).toBe(run.digest);
  expect(materialized.config.cmd).toEqual(['node', '/app/server.js']);

  // Run the image's command the way local-aws runs a task: the host's node, the image's files.
  const port = await freePort();
  const child = spawn(process.execPath, [join(materialized.rootfs, 'app', 'server.js')], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    // Ready when it says so (an event, not a wait of some length); an early exit fails the test.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(' listening on ')) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`the image's server exited (${code}): ${out}`)),
      );
    });
    const body = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.json());
    expect(body).toEqual({ status: 'healthy' });
  } finally {
    child.kill();
  }
});
