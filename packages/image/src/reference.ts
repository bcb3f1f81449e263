/** An ECR registry host such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, split up. */
export interface EcrHost {
  accountId: string;
  region: string;
}

/** Where images go: a repository, and its registry host when the user gave a full URI. */
export interface RepositoryRef {
  /** `host[:port]` when the input was a full URI, else undefined (the account's default registry). */
  registry?: string;
  /** Repository name inside the registry, e.g. `team/api`. */
  repository: string;
}

/** A parsed image reference: `[host/]repo[:tag][@sha256:…]`, or a bare tag or digest. */
export interface ImageRef {
  registry?: string;
  repository?: string;
  tag?: string;
  digest?: string;
}

const ECR_HOST =
  /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;
/** ECR repository names: lowercase path components separated by `/`. */
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Docker's tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** A sha256 content digest. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** Account and region of an ECR registry host, or undefined for any other host. */
export function parseEcrHost(host: string): EcrHost | undefined {
  const m = ECR_HOST.exec(host.toLowerCase());
  return m ? { accountId: m[1], region: m[2] } : undefined;
}

/** True when the first path component of a reference names a registry host. */
export function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * True when `text` is a registry address: a DNS name (`registry.example.com`, `localhost`), an
 * IPv4 address or a bracketed IPv6 address, with an optional port (1–65535). `..` or `-x.com` are
 * not.
 */
export function isRegistryHost(text: string): boolean {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(text);
  if (!m) return false;
  const [, host, port] = m;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false;
  if (host.startsWith('[')) return host.slice(1, -1).includes(':');
  if (IPV4.test(host)) return true;
  const name = host.toLowerCase();
  return name.length <= 253 && name.split('.').every((label) => HOST_LABEL.test(label));
}

/**
 * True when `name` is a valid ECR repository name: 2 to 256 characters matching ECR's pattern
 * `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`.
 */
export function isRepositoryName(name: string): boolean {
  return name.length >= 2 && name.length <= 256 && REPOSITORY_NAME.test(name);
}

/**
 * Parses the `repository` input: a repository name (`team/api`) or a full repository URI
 * (`123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api`, `127.0.0.1:4566/api`).
 * Returns undefined when it is neither (a first segment such as `..` that is no host address, a
 * name outside ECR's rules); a tag or digest is not allowed here. Whether a named registry is one
 * the caller can use is left to the caller.
 */
export function parseRepository(text: string): RepositoryRef | undefined {
  const value = text.trim().replace(/^(?:https?|docker):\/\//, '');
  const slash = value.indexOf('/');
  let registry: string | undefined;
  let repository = value;
  if (slash > 0 && looksLikeHost(value.slice(0, slash))) {
    registry = value.slice(0, slash).toLowerCase();
    repository = value.slice(slash + 1);
    if (!isRegistryHost(registry)) return undefined;
  }
  if (!isRepositoryName(repository)) return undefined;
  return { registry, repository };
}

/** A reference's name with its `:tag` and `@sha256:…` digest split off. */
export interface NameTagDigest {
  /** What precedes the tag and digest: `[host[:port]/]repository`, not checked. */
  name: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits `name[:tag][@sha256:…]` (a `host:port/` prefix of the name is not mistaken for a tag).
 * Returns undefined when the tag or the digest is malformed; the name is left to the caller.
 */
export function splitTagAndDigest(text: string): NameTagDigest | undefined {
  let name = text;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    if (!DIGEST_PATTERN.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG_PATTERN.test(tag)) return undefined;
  }
  return { name, tag, digest };
}

/**
 * Parses an image reference as `promote-from` accepts it: `tag`, `sha256:…`,
 * `repo:tag`, `repo@sha256:…`, `host/repo:tag` or `host/repo@sha256:…`.
 * Returns undefined when the text is none of these.
 */
export function parseImageRef(text: string): ImageRef | undefined {
  const value = text.trim().replace(/^docker:\/\//, '');
  if (!value) return undefined;
  if (DIGEST_PATTERN.test(value)) return { digest: value };
  if (TAG_PATTERN.test(value) && !value.includes('/')) {
    // `api` alone could be a repository, but a bare word here means a tag of the target repository.
    return { tag: value };
  }
  const split = splitTagAndDigest(value);
  if (!split) return undefined;
  const { name, tag, digest } = split;
  const repo = parseRepository(name);
  if (!repo) return undefined;
  if (!tag && !digest) return undefined;
  return { ...repo, tag, digest };
}

/** `host/repo@digest` or `host/repo:tag`. */
export function formatRef(registry: string, repository: string, ref: string): string {
  return ref.startsWith('sha256:')
    ? `${registry}/${repository}@${ref}`
    : `${registry}/${repository}:${ref}`;
}
