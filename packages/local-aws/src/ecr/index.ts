/**
 * The ECR part of local-aws: the ECR API (control plane), an OCI distribution registry under
 * `/v2/` (data plane) and the image store the ECS task runner unpacks images from.
 */
import { mkdirSync } from 'node:fs';
import type { EcrService, EcrServiceOptions, JsonOperation } from '../contracts';
import { TokenIssuer } from './auth';
import { BlobStore } from './blob-store';
import { createControlPlane } from './control-plane';
import { LocalImageStore } from './image-store';
import { createRegistryHandler } from './registry-http';
import { RegistryState, type RegistrySnapshot, type UploadCounters } from './registry-state';

export type { UploadCounters } from './registry-state';

/** {@link EcrService} plus what tests and `/_local/state` read about uploads. */
export interface LocalEcrService extends EcrService {
  imageStore: LocalImageStore;
  /**
   * What reached `repositoryName` through the registry: blob bytes received in upload bodies,
   * the part of them that are layers of its images, blobs uploaded, blobs mounted from another
   * repository, manifests put. Zeros when nothing did.
   */
  uploadCounters(repositoryName: string): UploadCounters;
  /** {@link uploadCounters} of every repository that received something. */
  allUploadCounters(): Record<string, UploadCounters>;
  snapshot(): RegistrySnapshot;
}

/** Creates the ECR service of one local-aws server; blobs and unpacked images go under `options.dataDir`. */
export function createEcrService(options: EcrServiceOptions): LocalEcrService {
  mkdirSync(options.dataDir, { recursive: true });
  const blobs = new BlobStore(options.dataDir);
  const state = new RegistryState(blobs, options.accountId);
  const tokens = new TokenIssuer();
  const knownHosts = new Set<string>();
  const handler = createRegistryHandler(state, tokens);
  const operations: Record<string, JsonOperation> = {};
  for (const [name, op] of Object.entries(createControlPlane(state, tokens))) {
    operations[name] = (input, ctx) => {
      knownHosts.add(ctx.endpointHost);
      return op(input ?? {}, ctx);
    };
  }
  return {
    operations,
    handleRegistry(req, res, ctx) {
      knownHosts.add(ctx.endpointHost);
      return handler(req, res, ctx);
    },
    imageStore: new LocalImageStore(state, options.dataDir, knownHosts),
    uploadCounters: (repositoryName) => state.uploadCounters(repositoryName),
    allUploadCounters: () => state.allUploadCounters(),
    snapshot: () => state.snapshot(),
    restore(snapshot) {
      state.restore((snapshot ?? {}) as RegistrySnapshot);
    },
  };
}
