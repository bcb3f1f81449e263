/** Repository and image reference names as ECR accepts them. */

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** True for a repository name ECR accepts: 2–256 lowercase path components joined by `/`. */
export function isValidRepositoryName(name: string): boolean {
  return name.length >= 2 && name.length <= 256 && REPOSITORY_NAME.test(name);
}

/** A parsed image reference: `[host[:port]/]repository[:tag][@digest]`. */
export interface ImageReference {
  host?: string;
  repositoryName: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits an image reference. The first path component is a host when it contains `.` or `:`
 * or is `localhost` (the rule docker uses); without tag and digest the tag is `latest`.
 */
export function parseImageReference(ref: string): ImageReference | undefined {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let host: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      host = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (!rest || (tag !== undefined && tag === '') || (digest !== undefined && digest === ''))
    return undefined;
  if (!tag && !digest) tag = 'latest';
  return { host, repositoryName: rest, tag, digest };
}
