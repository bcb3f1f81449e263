/**
 * The registry driven by real image tools: skopeo copies an OCI layout in and promotes between
 * repositories, buildah builds from scratch and pushes. Needs the skopeo and buildah packages.
 */
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
} from '@aws-sdk/client-ecr';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';
import type { LocalEcrService } from '../../../packages/local-aws/src/ecr';
import { buildOciImage, writeOciLayout } from '../../support/oci-image';

const run = promisify(execFile);
/** The docker CLI logs in client-side when no engine runs; pushing needs an engine. */
const hasDocker = spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0;

let work: string;
let aws: LocalAws;
let ecr: LocalEcrService;
let host: string;
let client: ECRClient;
let creds: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'local-aws-ecr-tools-'));
  // The tools read (and never write, with explicit credentials) this auth file instead of the user's.
  await writeFile(join(work, 'auth.json'), JSON.stringify({ auths: {} }));
  aws = await startLocalAws({ dataDir: join(work, 'aws') });
  ecr = aws.ecr as LocalEcrService;
  host = aws.registryHost;
  client = new ECRClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const token = await client.send(new GetAuthorizationTokenCommand({}));
  creds = Buffer.from(token.authorizationData![0].authorizationToken!, 'base64').toString();
  expect(token.authorizationData![0].proxyEndpoint).toBe(`http://${host}`);
  for (const repositoryName of ['tools/app', 'tools/prod', 'tools/built']) {
    await client.send(new CreateRepositoryCommand({ repositoryName }));
  }
});

afterAll(async () => {
  client?.destroy();
  await aws?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const skopeo = (...args: string[]): Promise<{ stdout: string }> =>
  run('skopeo', ['--registries-conf', '/dev/null', ...args], {
    env: { ...process.env, REGISTRY_AUTH_FILE: join(work, 'auth.json') },
  });

async function describe1(
  repositoryName: string,
  imageTag: string,
): Promise<Record<string, unknown>> {
  const out = await client.send(
    new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] }),
  );
  return out.imageDetails![0] as Record<string, unknown>;
}

test('skopeo copies an OCI layout in, and DescribeImages shows it with its digest and size', async () => {
  const image = buildOciImage({
    files: {
      'app/server.js': 'require("http").createServer().listen(8080)',
      'app/data.bin': Buffer.alloc(20000, 7),
    },
    config: { Cmd: ['node', 'server.js'], WorkingDir: '/app' },
  });
  await writeOciLayout(image, join(work, 'layout'), 'v1');
  await skopeo(
    'copy',
    '--dest-tls-verify=false',
    '--dest-creds',
    creds,
    `oci:${join(work, 'layout')}:v1`,
    `docker://${host}/tools/app:v1`,
  );
  expect(await describe1('tools/app', 'v1')).toMatchObject({
    imageDigest: image.digest,
    imageTags: ['v1'],
    imageSizeInBytes: image.layers[0].data.length,
    imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  });
  const inspected = JSON.parse(
    (
      await skopeo(
        'inspect',
        '--tls-verify=false',
        '--creds',
        creds,
        `docker://${host}/tools/app:v1`,
      )
    ).stdout,
  ) as { Digest: string };
  expect(inspected.Digest).toBe(image.digest);
});

test('skopeo promotes between repositories of the registry by mounting layers, uploading no layer bytes', async () => {
  await skopeo(
    'copy',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    '--src-creds',
    creds,
    '--dest-creds',
    creds,
    `docker://${host}/tools/app:v1`,
    `docker://${host}/tools/prod:v1`,
  );
  const source = await describe1('tools/app', 'v1');
  expect(await describe1('tools/prod', 'v1')).toMatchObject({ imageDigest: source.imageDigest });
  expect(ecr.uploadCounters('tools/prod')).toMatchObject({
    layerBytes: 0,
    blobsMounted: 1,
    manifestsPut: 1,
  });
});

test('skopeo without credentials is refused', async () => {
  await expect(
    skopeo('inspect', '--tls-verify=false', '--no-creds', `docker://${host}/tools/app:v1`),
  ).rejects.toThrow(/unauthorized|authentication required|401/i);
});

test('buildah builds from scratch, pushes in Docker format, and the image materializes', async () => {
  const storage = [
    '--storage-driver',
    'vfs',
    '--root',
    join(work, 'storage'),
    '--runroot',
    join(work, 'run'),
  ];
  const buildah = (...args: string[]): Promise<{ stdout: string }> =>
    run('buildah', [...storage, ...args], {
      env: {
        ...process.env,
        BUILDAH_ISOLATION: 'chroot',
        REGISTRY_AUTH_FILE: join(work, 'auth.json'),
      },
    });
  await mkdir(join(work, 'ctx'), { recursive: true });
  await writeFile(join(work, 'ctx', 'server.js'), 'console.log("built by buildah")\n');
  const container = (await buildah('from', 'scratch')).stdout.trim();
  await buildah('copy', container, join(work, 'ctx', 'server.js'), '/app/server.js');
  await buildah(
    'config',
    '--cmd',
    '["node","server.js"]',
    '--workingdir',
    '/app',
    '--port',
    '8080',
    '--env',
    'MODE=test',
    container,
  );
  await buildah('commit', '--format', 'docker', container, 'localhost/tools-built:b1');
  await buildah(
    'push',
    '--tls-verify=false',
    '--creds',
    creds,
    'localhost/tools-built:b1',
    `docker://${host}/tools/built:b1`,
  );
  const detail = await describe1('tools/built', 'b1');
  expect(detail).toMatchObject({
    imageTags: ['b1'],
    imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    artifactMediaType: 'application/vnd.docker.container.image.v1+json',
  });
  const image = await ecr.imageStore.materialize(`${host}/tools/built:b1`);
  expect(image.digest).toBe(detail.imageDigest);
  expect(readFileSync(join(image.rootfs, 'app/server.js'), 'utf8')).toBe(
    'console.log("built by buildah")\n',
  );
  expect(image.config).toMatchObject({
    cmd: ['node', 'server.js'],
    workingDir: '/app',
    exposedPorts: ['8080/tcp'],
  });
  expect(image.config.env).toContain('MODE=test');
});

(hasDocker ? test : test.skip)(
  'docker login accepts the token at the proxy endpoint and refuses a wrong password',
  async () => {
    const endpoint = (await client.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]
      .proxyEndpoint!;
    const login = (password: string): Promise<{ stdout: string }> => {
      const child = run(
        'docker',
        ['login', '-u', 'AWS', '--password-stdin', endpoint.replace(/^http:\/\//, '')],
        {
          env: { ...process.env, DOCKER_CONFIG: join(work, 'docker') },
        },
      );
      child.child.stdin!.end(password);
      return child;
    };
    await expect(login(creds.slice('AWS:'.length))).resolves.toMatchObject({
      stdout: expect.stringContaining('Login Succeeded'),
    });
    await expect(login('wrong')).rejects.toThrow(/401 Unauthorized/);
  },
);
