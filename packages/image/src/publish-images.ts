import {
  buildAndPush,
  prepareAndLogin,
  tagLines,
  type BuildAndPublishOptions,
  type BuildSpec,
  type PublishResult,
} from './build-and-publish';
import { CancelledError, describeAwsError, errorMessage, isAwsError } from '../../kit/src/errors';
import type { ImageSource } from './copy';
import type { EcrApi, RepositoryInfo, TagResult } from './ecr';
import { ImageError } from './errors';
import { CommandNotFoundError } from './exec';
import { findReusable, tagImage, type Reusable } from './publish';
import { isIndex, type BlobBody } from './registry';

/** The label every build carries with the commit it was built from. */
export const REVISION_LABEL = 'org.opencontainers.image.revision';

/** One image of a {@link publishImages} run. */
export interface ImageJob {
  /** The target repository (it exists). */
  repository: RepositoryInfo;
  spec: BuildSpec;
  /** This commit's tags. */
  tags: string[];
  /** The tag made from the commit: when the repository holds it, that image is reused. */
  commitTag?: string;
  /**
   * The image's content tag ({@link deriveContentTag}): when the repository holds it, that image
   * is put under `tags` instead of being rebuilt; else the build gets it too.
   */
  contentTag?: string;
  /** `host/name` of the repository that keeps the layer cache, when the cache is on. */
  cacheRef?: string;
}

/** What happened to one image: built, reused (this commit's tag) or unchanged (content tag). */
export type ImageAction = 'built' | 'reused' | 'unchanged';

/** What {@link publishImages} did for one image. */
export interface ImageJobResult {
  repository: string;
  action: ImageAction;
  digest: string;
  /** This commit's tags, then the content tag when the build put it on. */
  tags: TagResult[];
  pushed: boolean;
  sizeBytes?: number;
  /** `unchanged`: the commit the image was built from (its revision label), when it says. */
  builtFrom?: string;
  /** `built`: the build and push. */
  publish?: PublishResult;
}

/** What an unchanged image is: the image under its content tag and the commit it came from. */
export interface Unchanged extends Reusable {
  builtFrom?: string;
}

async function readBlob(body: BlobBody): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Uint8Array[] = [];
  const reader = (await body.open()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * The commit an image was built from, read from its config's `org.opencontainers.image.revision`
 * label (for an index, its first platform's); undefined when the image does not say.
 */
export async function imageRevision(
  source: ImageSource,
  digest: string,
): Promise<string | undefined> {
  let manifest = await source.manifest(digest);
  if (isIndex(manifest.mediaType)) {
    const first = manifest.json.manifests?.[0];
    if (!first) return undefined;
    manifest = await source.manifest(first.digest);
  }
  if (!manifest.json.config) return undefined;
  const config = JSON.parse(
    (await readBlob(source.blob(manifest.json.config))).toString('utf8'),
  ) as {
    config?: { Labels?: Record<string, string> };
  };
  return config.config?.Labels?.[REVISION_LABEL] || undefined;
}

/**
 * The image the repository holds under `contentTag`, if any, with the commit it was built from
 * (read with `revisionOf`; a failure to read it leaves it unknown, it never fails the run).
 */
export async function findUnchanged(
  ecr: EcrApi,
  repository: RepositoryInfo,
  contentTag: string,
  revisionOf?: (digest: string) => Promise<string | undefined>,
): Promise<Unchanged | undefined> {
  const found = await findReusable(ecr, repository, contentTag);
  if (!found) return undefined;
  const builtFrom = revisionOf ? await revisionOf(found.digest).catch(() => undefined) : undefined;
  return { ...found, builtFrom };
}

/** Everything {@link publishImages} needs: what one build needs, for several images. */
export interface PublishImagesOptions extends Omit<
  BuildAndPublishOptions,
  'repository' | 'spec' | 'tags' | 'cacheRef'
> {
  jobs: ImageJob[];
  /** Reads an image of a repository, to learn the commit an unchanged image was built from. */
  reader?: (repository: string) => ImageSource;
}

/**
 * Publishes several images with one registry login and one builder: each image whose commit
 * tag (`commitTag`) or content tag (`contentTag`) the repository already holds is put under its
 * tags by digest with ECR's API (no layer moves); the others are built once, pushed by digest and
 * tagged, one after the other. The builder is set up and logged in only when an image is built.
 * The builds share `workDir`: each one's layout is pushed before the next build starts.
 */
export async function publishImages(opts: PublishImagesOptions): Promise<ImageJobResult[]> {
  const { ecr, progress } = opts;
  let settings: string[] | undefined;
  const results: ImageJobResult[] = [];
  const publishOne = async (job: ImageJob): Promise<ImageJobResult> => {
    const { repository } = job;
    const name = repository.name;
    const where = `${opts.host}/${name}`;
    if (opts.push && job.commitTag) {
      const found = await findReusable(ecr, repository, job.commitTag);
      if (found) {
        progress.info(
          `${where}:${job.commitTag} is ${found.digest}: reusing it, nothing is built.`,
        );
        const tags = await tagImage(ecr, repository, found.image, job.tags);
        for (const line of tagLines(tags)) progress.info(line);
        return {
          repository: name,
          action: 'reused',
          digest: found.digest,
          tags,
          pushed: true,
          sizeBytes: found.sizeBytes,
        };
      }
    }
    if (opts.push && job.contentTag) {
      const reader = opts.reader?.(name);
      const found = await findUnchanged(
        ecr,
        repository,
        job.contentTag,
        reader ? (digest) => imageRevision(reader, digest) : undefined,
      );
      if (found) {
        progress.info(
          `${where}:${job.contentTag} is ${found.digest}${found.builtFrom ? `, built from ${found.builtFrom}` : ''}: its build inputs are unchanged, so it is tagged for this commit instead of rebuilt.`,
        );
        const tags = await tagImage(ecr, repository, found.image, job.tags);
        for (const line of tagLines(tags)) progress.info(line);
        return {
          repository: name,
          action: 'unchanged',
          digest: found.digest,
          tags,
          pushed: true,
          sizeBytes: found.sizeBytes,
          builtFrom: found.builtFrom,
        };
      }
      progress.info(`${where}:${job.contentTag} does not exist yet: building.`);
    }
    settings ??= await prepareAndLogin(opts);
    const publish = await buildAndPush(
      {
        ...opts,
        repository,
        spec: job.spec,
        tags: job.contentTag ? [...job.tags, job.contentTag] : job.tags,
        cacheRef: job.cacheRef,
      },
      settings,
      opts.jobs.length > 1 ? name : undefined,
    );
    return {
      repository: name,
      action: 'built',
      digest: publish.digest,
      tags: publish.tags,
      pushed: publish.pushed,
      sizeBytes: publish.sizeBytes,
      publish,
    };
  };
  for (const [i, job] of opts.jobs.entries()) {
    try {
      results.push(await publishOne(job));
    } catch (error) {
      // One image: its error as it is. A missing builder program is said as it is too.
      if (opts.jobs.length === 1 || error instanceof CommandNotFoundError) throw error;
      const ref = (j: ImageJob): string => `\`${opts.host}/${j.repository.name}\``;
      const done = results.length
        ? results
            .map((r, k) =>
              r.pushed
                ? `\`${opts.host}/${opts.jobs[k].repository.name}@${r.digest}\``
                : `${ref(opts.jobs[k])} (built, push is false)`,
            )
            .join(', ')
        : 'none';
      const pending = opts.jobs.slice(i).map(ref).join(', ');
      const state = `Published already (their tags stay): ${done}. Not published: ${pending}.`;
      const text = (isAwsError(error) ? describeAwsError(error) : errorMessage(error)).replace(
        /\.$/,
        '',
      );
      if (error instanceof CancelledError) throw new CancelledError(`${text}. ${state}`);
      throw new ImagesIncompleteError(
        results,
        i,
        `Publishing ${ref(job)} failed: ${text}. ${state}`,
      );
    }
  }
  return results;
}

/**
 * {@link publishImages} stopped at one image of several: the message names it, the images
 * published before it (their tags stay) and those not published.
 */
export class ImagesIncompleteError extends ImageError {
  constructor(
    /** What the images published before the failure got, in order. */
    readonly published: ImageJobResult[],
    /** The index of the job that failed. */
    readonly failed: number,
    message: string,
  ) {
    super(message);
    this.name = 'ImagesIncompleteError';
  }
}
