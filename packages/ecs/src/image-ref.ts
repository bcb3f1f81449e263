import { looksLikeHost, splitTagAndDigest } from '../../image/src/reference';

/** A container image reference split into its parts. */
export interface ImageRef {
  /** `registry[:port]` when the reference names one (a first part with `.`, `:` or `localhost`). */
  registry?: string;
  /** Repository path without the registry, e.g. `team/web`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` when the reference pins a digest. */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const REGISTRY =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?$|^\[[0-9a-fA-F:]+\](?::\d{1,5})?$/;

/**
 * Parses `[registry/]repository[:tag][@sha256:digest]` the way the OCI distribution reference
 * grammar does; returns undefined when `text` is not a valid image reference.
 */
export function parseImageRef(text: string): ImageRef | undefined {
  if (!text || text.length > 1024 || /\s/.test(text)) return undefined;
  const split = splitTagAndDigest(text);
  if (!split) return undefined;
  const { tag, digest } = split;
  const parts = split.name.split('/');
  let registry: string | undefined;
  if (parts.length > 1 && looksLikeHost(parts[0])) {
    registry = parts.shift();
    if (!registry || !REGISTRY.test(registry)) return undefined;
  }
  if (!parts.length || !parts.every((p) => COMPONENT.test(p))) return undefined;
  return { registry, repository: parts.join('/'), tag, digest };
}

/** Formats an {@link ImageRef} back into a reference string. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry ? `${ref.registry}/` : ''}${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** True when `image` carries the tag or digest `version` (`v1.2.3`, `sha256:…`). */
export function imageHasVersion(image: string | undefined, version: string): boolean {
  const ref = image ? parseImageRef(image) : undefined;
  if (!ref) return false;
  return version.startsWith('sha256:') ? ref.digest === version : ref.tag === version;
}

/** `image` with its tag or digest replaced by `version` (a tag, or `sha256:…` for a digest). */
export function withImageVersion(image: string, version: string): string | undefined {
  const ref = parseImageRef(image);
  if (!ref) return undefined;
  if (version.startsWith('sha256:'))
    return formatImageRef({ ...ref, tag: undefined, digest: version });
  return formatImageRef({ ...ref, tag: version, digest: undefined });
}
