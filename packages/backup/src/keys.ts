/** What a backup object holds, by the way it was written. */
export type BackupKind = 'custom' | 'plain' | 'files';

const EXTENSIONS: Record<BackupKind, string> = {
  custom: 'dump',
  plain: 'sql.gz',
  files: 'tar.gz',
};

/** The file extension of a backup kind: `dump` (pg_dump custom format), `sql.gz`, `tar.gz`. */
export function extensionFor(kind: BackupKind): string {
  return EXTENSIONS[kind];
}

/** The kind of a backup from its key's extension; undefined for anything else. */
export function kindOfKey(key: string): BackupKind | undefined {
  if (key.endsWith('.dump')) return 'custom';
  if (key.endsWith('.sql.gz')) return 'plain';
  if (key.endsWith('.tar.gz') || key.endsWith('.tgz')) return 'files';
  return undefined;
}

/**
 * Metadata key set to `true` on a database backup taken with pg-dump-args that select part of
 * the database (see `selectsPart`); restore's `latest` skips such backups.
 */
export const PARTIAL_METADATA = 'shipkit-partial';

/** Whether an object's metadata marks a backup of part of a database. */
export function isPartial(metadata: Record<string, string>): boolean {
  return metadata[PARTIAL_METADATA] === 'true';
}

/** `2026-03-15T03:15:00.123Z` → `20260315T031500Z` (UTC, sortable, readable). */
export function formatTimestamp(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Replaces anything but letters, digits, `.`, `_` and `-` by `-` (keeps keys readable and safe). */
export function sanitizeName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return clean || 'backup';
}

/**
 * True when `name` is a folder name as is: letters, digits, `.`, `_` and `-`, not starting
 * with `.` or `-` nor ending with `-`. Only such names are used in keys, unchanged, so two
 * different names never share a folder (and so never share retention).
 */
export function isFolderName(name: string): boolean {
  return name.length > 0 && sanitizeName(name) === name;
}

/** The first 7 characters of a commit SHA, or `nosha` when there is none. */
export function shortSha(sha: string | undefined): string {
  const s = (sha ?? '').trim().toLowerCase();
  return /^[0-9a-f]{7,}$/.test(s) ? s.slice(0, 7) : 'nosha';
}

/** Makes a prefix end with exactly one `/` (an empty prefix stays empty). */
export function normalizePrefix(prefix: string): string {
  const p = prefix.trim().replace(/^\/+/, '');
  if (!p) return '';
  return p.replace(/\/*$/, '/');
}

/**
 * Where every backup of one database (or file set) lives: `<prefix><name>/`. Throws for a name
 * that is not a folder name as is ({@link isFolderName}): folding it (`shop data` →
 * `shop-data`) would let two databases share a folder, and one's retention delete the other's
 * backups.
 */
export function backupFolder(prefix: string, name: string): string {
  if (!isFolderName(name))
    throw new Error(
      `\`${name}\` is not usable as a folder name (letters, digits, \`.\`, \`_\` and \`-\`, not starting with \`.\` or \`-\`)`,
    );
  return `${normalizePrefix(prefix)}${name}/`;
}

export interface BackupKeyParts {
  prefix: string;
  /** Database name (or the files backup's name). */
  name: string;
  at: Date;
  sha?: string;
  kind: BackupKind;
  /** Added as `-<n>` before the extension when a key is taken (n ≥ 2). */
  attempt?: number;
}

/**
 * The object key of a backup:
 * `<prefix><name>/<YYYY>/<MM>/<DD>/<name>-<YYYYMMDDTHHMMSSZ>-<short sha>.<ext>`.
 * Keys of one database sort by time; the date folders keep listings readable.
 */
export function backupKey(parts: BackupKeyParts): string {
  const name = parts.name;
  const iso = parts.at.toISOString();
  const [yyyy, mm, dd] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  const suffix = parts.attempt && parts.attempt > 1 ? `-${parts.attempt}` : '';
  return `${backupFolder(parts.prefix, name)}${yyyy}/${mm}/${dd}/${name}-${formatTimestamp(parts.at)}-${shortSha(parts.sha)}${suffix}.${extensionFor(parts.kind)}`;
}

/**
 * Where a backup's bytes are uploaded before they are complete: `<key>.incomplete`. The object
 * is copied to its key together with its checksum only once the upload is complete, so no
 * crash leaves an unverified object under a backup's key; this name is no backup's (restore
 * ignores it, and retention sees it as a leftover without a checksum).
 */
export function incompleteKey(key: string): string {
  return `${key}.incomplete`;
}

/**
 * An RDS snapshot identifier: `shipkit-<environment>-<source>-<YYYYMMDD>-<HHMMSS>-<short sha>`,
 * within RDS's rules (letters, digits and single hyphens, starting with a letter, at most 255
 * characters).
 */
export function snapshotIdentifier(parts: {
  environment: string;
  source: string;
  at: Date;
  sha?: string;
}): string {
  const clean = (s: string): string =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const stamp = formatTimestamp(parts.at).toLowerCase().replace('t', '-').replace(/z$/, '');
  const id = ['shipkit', clean(parts.environment), clean(parts.source), stamp, shortSha(parts.sha)]
    .filter(Boolean)
    .join('-')
    .replace(/-{2,}/g, '-');
  return id.slice(0, 255).replace(/-+$/, '');
}
