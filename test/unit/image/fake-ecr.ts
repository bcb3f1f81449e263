import { createHash } from 'node:crypto';
import type {
  EcrApi,
  ImageSelector,
  RepositoryInfo,
  StoredManifest,
} from '../../../packages/image/src/ecr';

function awsError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

interface FakeRepo {
  info: RepositoryInfo;
  manifests: Map<string, StoredManifest>;
  tags: Map<string, string>;
}

/**
 * An in-memory ECR with the semantics build-and-push relies on: PutImage refuses a tag that
 * already names the same image (ImageAlreadyExistsException) and, in an immutable repository,
 * a tag that names another image (ImageTagAlreadyExistsException).
 */
export class FakeEcr implements EcrApi {
  readonly repos = new Map<string, FakeRepo>();
  readonly calls: string[] = [];
  host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

  addRepository(name: string, tagMutability = 'MUTABLE'): RepositoryInfo {
    const info = { name, uri: `${this.host}/${name}`, registryId: '123456789012', tagMutability };
    this.repos.set(name, { info, manifests: new Map(), tags: new Map() });
    return info;
  }

  /** Stores an image (as a registry push would) and returns it. */
  addImage(repository: string, content: string, tags: string[] = []): StoredManifest {
    const manifest = JSON.stringify({ schemaVersion: 2, config: { digest: content } });
    const image = {
      digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`,
      manifest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    };
    const repo = this.repo(repository);
    repo.manifests.set(image.digest, image);
    for (const t of tags) repo.tags.set(t, image.digest);
    return image;
  }

  /** Stores a manifest as the registry's data plane would after a push by digest (no tag). */
  storeManifest(repository: string, image: StoredManifest): void {
    this.repo(repository).manifests.set(image.digest, image);
  }

  private repo(name: string): FakeRepo {
    const r = this.repos.get(name);
    if (!r) throw awsError('RepositoryNotFoundException', `The repository ${name} does not exist`);
    return r;
  }

  private find(repo: FakeRepo, image: ImageSelector): StoredManifest | undefined {
    const digest = 'tag' in image ? repo.tags.get(image.tag) : image.digest;
    return digest ? repo.manifests.get(digest) : undefined;
  }

  async getAuthorizationToken(): Promise<{
    username: string;
    password: string;
    proxyEndpoint: string;
  }> {
    this.calls.push('GetAuthorizationToken');
    return { username: 'AWS', password: 'secret-password', proxyEndpoint: `https://${this.host}` };
  }

  async describeRepository(name: string): Promise<RepositoryInfo | undefined> {
    this.calls.push(`DescribeRepositories ${name}`);
    return this.repos.get(name)?.info;
  }

  async createRepository(name: string): Promise<RepositoryInfo> {
    this.calls.push(`CreateRepository ${name}`);
    return this.addRepository(name);
  }

  async describeImage(repository: string, image: ImageSelector) {
    this.calls.push(`DescribeImages ${repository}`);
    const repo = this.repo(repository);
    const found = this.find(repo, image);
    if (!found) return undefined;
    const tags = [...repo.tags].filter(([, d]) => d === found.digest).map(([t]) => t);
    return { digest: found.digest, tags, sizeBytes: 1000 };
  }

  async getManifest(repository: string, image: ImageSelector): Promise<StoredManifest | undefined> {
    this.calls.push(`BatchGetImage ${repository}`);
    return this.find(this.repo(repository), image);
  }

  async putImage(repository: string, tag: string, image: StoredManifest): Promise<void> {
    this.calls.push(`PutImage ${repository}:${tag}`);
    const repo = this.repo(repository);
    if (!repo.manifests.has(image.digest))
      throw awsError('LayersNotFoundException', 'missing layers');
    const current = repo.tags.get(tag);
    if (current === image.digest) throw awsError('ImageAlreadyExistsException', 'already exists');
    if (current && repo.info.tagMutability === 'IMMUTABLE') {
      throw awsError('ImageTagAlreadyExistsException', `tag ${tag} already exists`);
    }
    repo.tags.set(tag, image.digest);
  }
}
