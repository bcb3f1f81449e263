import { CancelledError, describeAwsError, errorMessage, isAwsError } from '../../kit/src/errors';
import type { EcrApi, RepositoryInfo } from './ecr';
import { ImageError } from './errors';
import { promote, sourceOf, type ForeignRegistry, type PromoteResult } from './publish';
import type { ImageRef } from './reference';
import type { RegistryClient } from './registry';

/** One image of a {@link promoteImages} run: the image `from` names goes into `repository`. */
export interface PromotionJob {
  /** The target repository (it exists). */
  repository: RepositoryInfo;
  /** The image to promote, relative to the target (see {@link sourceOf}). */
  from: ImageRef;
}

/** Everything {@link promoteImages} needs. */
export interface PromoteImagesOptions {
  ecr: EcrApi;
  /** Host of the target registry, which every job's repository is in. */
  host: string;
  jobs: PromotionJob[];
  /** The tags every image gets. */
  tags: string[];
  /** A client for the target registry (asked for only when an image moves between repositories). */
  target: () => Promise<RegistryClient>;
  /** ECR and a login for a source in another registry; asked once per registry. */
  foreign?: (host: string) => Promise<ForeignRegistry>;
  /** Told about each image as soon as it is promoted (to log it). */
  onPromoted?: (result: PromoteResult, job: PromotionJob) => void;
  /** Stops registry traffic when the run is cancelled. */
  signal?: AbortSignal;
}

/** `host/repository` of a job's target, and the image it reads. */
function describeJob(job: PromotionJob, host: string): string {
  return `\`${host}/${job.repository.name}\` (from \`${sourceOf(job.from, job.repository.name, host)}\`)`;
}

/**
 * Several images promoted one after the other, and one of them failed: says which image failed
 * and why, which were promoted already (their tags stay: tags only add, there is nothing to undo)
 * and which were not.
 */
export class PromotionsIncompleteError extends ImageError {
  constructor(
    /** What the images promoted before the failure got, in order. */
    readonly promoted: PromoteResult[],
    /** The index of the job that failed. */
    readonly failed: number,
    message: string,
  ) {
    super(message);
    this.name = 'PromotionsIncompleteError';
  }
}

function explain(error: unknown): string {
  const text = isAwsError(error) ? describeAwsError(error) : errorMessage(error);
  return text.replace(/\.$/, '');
}

/**
 * Promotes each job's image into its repository under `tags` with {@link promote} (same
 * repository: retag with ECR PutImage; another repository of the registry: copy by digest with
 * blob mounts; another registry: copy through its own login), one after the other; the digest
 * never changes. A failure after the first image throws {@link PromotionsIncompleteError} (a
 * cancel: a {@link CancelledError}) naming what was promoted already and what was not; with one
 * image, the failure is thrown as it is.
 */
export async function promoteImages(opts: PromoteImagesOptions): Promise<PromoteResult[]> {
  const logins = new Map<string, Promise<ForeignRegistry>>();
  const foreign = opts.foreign;
  const once = foreign
    ? (sourceHost: string): Promise<ForeignRegistry> => {
        let login = logins.get(sourceHost);
        if (!login) {
          login = foreign(sourceHost);
          logins.set(sourceHost, login);
        }
        return login;
      }
    : undefined;
  const results: PromoteResult[] = [];
  for (const [i, job] of opts.jobs.entries()) {
    try {
      const result = await promote({
        ecr: opts.ecr,
        repository: job.repository,
        host: opts.host,
        from: job.from,
        tags: opts.tags,
        target: opts.target,
        foreign: once,
        signal: opts.signal,
      });
      results.push(result);
      opts.onPromoted?.(result, job);
    } catch (error) {
      if (opts.jobs.length === 1) throw error;
      const done = results.length
        ? results
            .map((r, k) => `\`${opts.host}/${opts.jobs[k].repository.name}@${r.digest}\``)
            .join(', ')
        : 'none';
      const pending = opts.jobs
        .slice(i)
        .map((j) => describeJob(j, opts.host))
        .join(', ');
      const state = `Promoted already (their tags stay: tags only add, there is nothing to undo): ${done}. Not promoted: ${pending}.`;
      if (error instanceof CancelledError) {
        throw new CancelledError(`${explain(error)}. ${state}`);
      }
      throw new PromotionsIncompleteError(
        results,
        i,
        `Promoting ${describeJob(job, opts.host)} failed: ${explain(error)}. ${state}`,
      );
    }
  }
  return results;
}
