/**
 * Contracts between the parts of local-aws: the HTTP server and protocol layer, the ECS/ELB
 * simulation, and the ECR registry. local-aws shares no code with the rest of shipkit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error that AWS would return; `code` is the exception name the SDK maps (`__type`). */
export class AwsError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly status: number = 400,
    public readonly fault: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
    this.name = code;
  }
}

/** What every operation handler knows about the request it serves. */
export interface RequestContext {
  region: string;
  accountId: string;
  requestId: string;
  /** `host:port` under which clients reach this server (used in repository URIs). */
  endpointHost: string;
}

/** A JSON-protocol (awsJson1_0/1_1) operation: input object in, output object out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- inputs are checked by each operation
export type JsonOperation = (input: any, ctx: RequestContext) => unknown;

/** The parts of an OCI image config that a task runner needs. */
export interface ImageRunConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  exposedPorts?: string[];
  user?: string;
}

/** A container image unpacked on local disk, ready to run as a process. */
export interface MaterializedImage {
  /** Directory holding the image's merged filesystem. */
  rootfs: string;
  config: ImageRunConfig;
  /** `sha256:...` digest of the manifest that was resolved. */
  digest: string;
}

/** Resolves images held by the local registry. */
export interface ImageStore {
  /**
   * Resolve `HOST:PORT/repo:tag`, `HOST:PORT/repo@sha256:...` (or the same without the host)
   * from the local registry and unpack its layers (cached by digest).
   * Throws an Error whose message reads like an ECS `stoppedReason` when it cannot.
   */
  materialize(imageRef: string): Promise<MaterializedImage>;
}

/** The ECR part of local-aws, created once per server. */
export interface EcrService {
  /** ECR control-plane operations by name (e.g. `CreateRepository`). */
  operations: Record<string, JsonOperation>;
  /** Serves OCI distribution API requests under `/v2/`. */
  handleRegistry(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void>;
  imageStore: ImageStore;
  /** JSON-serialisable state for `--state-file` and `GET /_local/state`. */
  snapshot(): unknown;
  restore(state: unknown): void;
}

export interface EcrServiceOptions {
  /** Directory where blobs and unpacked images are kept. */
  dataDir: string;
  accountId: string;
}
