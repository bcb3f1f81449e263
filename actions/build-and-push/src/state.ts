/**
 * What the main step hands to the post step (`core.saveState` / `core.getState`): the names live
 * here so that the post step does not load the main step's module.
 */
export const STATE = {
  /** The job-private work directory (`shipkit-build-and-push-…`) holding the registry login. */
  workDir: 'work-dir',
  /** `host[:port]` of the registry the builder logged in to. */
  registry: 'registry',
  /** The builder that logged in (`buildah` or `buildx`), which also logs out. */
  builder: 'builder',
} as const;

/** Prefix of the work directory the main step creates; the post step removes nothing else. */
export const WORK_DIR_PREFIX = 'shipkit-build-and-push-';
