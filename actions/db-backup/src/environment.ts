// What a run takes from where it runs: the S3 client (from the SDK's standard settings) and the
// directory for temporary files.
import { tmpdir } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';

/** The S3 client of a run, loaded on first use (the SDK is a large part of the bundle). */
export async function s3Client(
  region: string | undefined,
  forcePathStyle: boolean,
): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { awsClientConfig, resolveRegion, withErrorContext } =
    await import('../../../packages/kit/src/aws');
  return withErrorContext(
    new S3Client({ ...awsClientConfig(resolveRegion(region)), forcePathStyle }),
    'S3',
  );
}

/** Where a run keeps its temporary files. */
export function tempParent(): string {
  return process.env.RUNNER_TEMP || tmpdir();
}
