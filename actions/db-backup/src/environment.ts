// What a run takes from where it runs: the S3 client (from the SDK's standard settings) and the
// directory for temporary files.
import { tmpdir } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';

/**
 * The S3 client of a run, loaded on first use (the SDK is a large part of the bundle). It sends
 * no `Expect: 100-continue`: the SDK sends every request carrying that header (each part of
 * 2 MB or more) on a new connection of its own, with no keep-alive, and waits a round trip for
 * the server's go-ahead before the body; without it the parts reuse the kept-alive connections.
 * A part S3 refuses is then refused after its body was sent rather than before.
 */
export async function s3Client(
  region: string | undefined,
  forcePathStyle: boolean,
): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { awsClientConfig, resolveRegion, withErrorContext } =
    await import('../../../packages/kit/src/aws');
  return withErrorContext(
    new S3Client({
      ...awsClientConfig(resolveRegion(region)),
      forcePathStyle,
      expectContinueHeader: false,
    }),
    'S3',
  );
}

/** Where a run keeps its temporary files. */
export function tempParent(): string {
  return process.env.RUNNER_TEMP || tmpdir();
}
