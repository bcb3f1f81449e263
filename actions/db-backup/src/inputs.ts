import * as core from '../../../packages/kit/src/core';
import { InputParser } from '../../../packages/kit/src/inputs';
import { ConfigurationError } from '../../../packages/kit/src/errors';
import {
  parseDatabaseUrl,
  splitArgs,
  type PgConnection,
} from '../../../packages/backup/src/connection';
import {
  isFolderName,
  kindOfKey,
  normalizePrefix,
  sanitizeName,
} from '../../../packages/backup/src/keys';
import { logSafe } from '../../../packages/kit/src/log-text';
import {
  findPgDumpArgsProblem,
  setsOption,
  type OwnedBy,
  type PgDumpArgsProblem,
} from '../../../packages/backup/src/pg-dump-args';

export const MODES = ['pg-dump', 'files', 'rds-snapshot', 'restore'] as const;
export type Mode = (typeof MODES)[number];

/** Storage classes a backup can be written in and read back at once (archive classes cannot). */
export const STORAGE_CLASSES = [
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
] as const;

/** What every mode reads. */
interface CommonInputs {
  region?: string;
  environment: string;
  dryRun: boolean;
  sha?: string;
}

/** Where backups live in S3 (every mode but rds-snapshot). */
interface BucketInputs {
  bucket: string;
  /** Normalized: ends with `/` (or empty). */
  prefix: string;
  /** Folder name under the prefix (a folder name as is). */
  name: string;
  forcePathStyle: boolean;
}

/** How backups are written and kept (pg-dump and files). */
interface WriteInputs {
  sse: 'AES256' | 'aws:kms';
  kmsKeyId?: string;
  storageClass?: string;
  keepDays: number;
  keepLast: number;
  compressionLevel: number;
}

/** `mode: pg-dump`. */
export interface PgDumpInputs extends CommonInputs, BucketInputs, WriteInputs {
  mode: 'pg-dump';
  database: PgConnection;
  format: 'custom' | 'plain';
  pgDumpArgs: string[];
  /** `restore` carries the scratch database it restores into. */
  verify: { kind: 'none' } | { kind: 'list' } | { kind: 'restore'; database: PgConnection };
}

/** `mode: files`. */
export interface FilesInputs extends CommonInputs, BucketInputs, WriteInputs {
  mode: 'files';
  paths: string[];
  verify: { kind: 'none' } | { kind: 'list' };
}

/** `mode: restore`. */
export interface RestoreInputs extends CommonInputs, BucketInputs {
  mode: 'restore';
  /** The database restored into. */
  database: PgConnection;
  /** A key under the prefix (unless `allowOtherPrefix`), or `latest`. */
  backupKey: string;
  /** `name` was not set: the folder is named after the database restored into. */
  nameFromDatabase: boolean;
  allowOtherPrefix: boolean;
}

/** `mode: rds-snapshot`. */
export interface SnapshotInputs extends CommonInputs {
  mode: 'rds-snapshot';
  target: { instance: string; cluster?: undefined } | { cluster: string; instance?: undefined };
  keepDays: number;
  keepLast: number;
  timeoutMs: number;
}

/** Everything db-backup reads from its inputs, validated: one shape per mode. */
export type Inputs = PgDumpInputs | FilesInputs | RestoreInputs | SnapshotInputs;

/**
 * Inputs that only some modes read; setting them in another mode is a mistake worth naming.
 * The runner passes every input's action.yml default, so a value equal to it counts as unset.
 */
const MODE_INPUTS: Record<string, Mode[]> = {
  'database-url': ['pg-dump', 'restore'],
  format: ['pg-dump'],
  'compression-level': ['pg-dump', 'files'],
  'pg-dump-args': ['pg-dump'],
  verify: ['pg-dump', 'files'],
  'verify-database-url': ['pg-dump'],
  paths: ['files'],
  'db-instance-identifier': ['rds-snapshot'],
  'db-cluster-identifier': ['rds-snapshot'],
  'backup-key': ['restore'],
  'allow-other-prefix': ['restore'],
  'confirm-database': ['restore'],
  bucket: ['pg-dump', 'files', 'restore'],
  prefix: ['pg-dump', 'files', 'restore'],
  name: ['pg-dump', 'files', 'restore'],
  sse: ['pg-dump', 'files'],
  'kms-key-id': ['pg-dump', 'files'],
  'storage-class': ['pg-dump', 'files'],
  's3-force-path-style': ['pg-dump', 'files', 'restore'],
  'keep-days': ['pg-dump', 'files', 'rds-snapshot'],
  'keep-last': ['pg-dump', 'files', 'rds-snapshot'],
  timeout: ['rds-snapshot'],
};

/** The action.yml defaults of the mode-specific inputs that have one. */
const DEFAULTS: Record<string, string> = {
  format: 'custom',
  'compression-level': '1',
  verify: 'list',
  sse: 'AES256',
  's3-force-path-style': 'false',
  'keep-days': '30',
  'keep-last': '7',
  timeout: '1h',
  'allow-other-prefix': 'false',
};

function connection(p: InputParser, name: string, required: boolean): PgConnection | undefined {
  const text = required ? p.required(name, { secret: true }) : p.string(name, { secret: true });
  if (!text) return undefined;
  try {
    const conn = parseDatabaseUrl(text);
    if (conn.password) core.setSecret(conn.password);
    if (conn.password && encodeURIComponent(conn.password) !== conn.password)
      core.setSecret(encodeURIComponent(conn.password));
    return conn;
  } catch (error) {
    throw new ConfigurationError(`Input \`${name}\` ${(error as Error).message}.`);
  }
}

/** Why each option the action sets itself may not be in `pg-dump-args`. */
const OWNED_WHY: Record<OwnedBy, string> = {
  output: 'the output goes to S3',
  format: 'use input `format`',
  compression: 'use input `compression-level`',
  connection: 'use input `database-url`',
  password: 'passwords come from `database-url` through the environment',
  jobs: 'parallel dumps need the directory format, which cannot be streamed',
  snapshot: 'the action sets it when `verify: restore` counts rows in the dumped snapshot',
  prints: 'it prints and exits instead of dumping',
};

/** The end of a sentence that starts "Input `pg-dump-args`", for what is wrong with its options. */
function pgDumpArgsMessage(problem: PgDumpArgsProblem): string {
  const arg = `\`${logSafe(problem.arg, 200)}\``;
  switch (problem.kind) {
    case 'owned':
      return ` may not contain ${arg} (${problem.option}): ${OWNED_WHY[problem.ownedBy]}`;
    case 'positional':
      return ` may not contain ${arg}: pg_dump would dump the database it names; use input \`database-url\``;
    case 'unknown':
      return `: ${arg} is not a pg_dump option (see \`pg_dump --help\`)`;
    case 'ambiguous':
      return `: ${arg} is ambiguous (${problem.candidates.join(', ')}): write the option in full`;
    case 'missing-value':
      return `: ${arg} needs a value (${problem.option})`;
    case 'unexpected-value':
      return `: ${arg}: ${problem.option} takes no value`;
  }
}

/**
 * The object key `backup-key` names, without a leading `/`: the key itself, or the `location`
 * output of a backup run (`s3://<bucket>/<key>`, in the run's bucket). Refuses a location in
 * another bucket, and a key that is no database backup (by its extension), before anything is
 * read.
 */
function backupKeyOf(text: string, bucket: string): string {
  if (text === 'latest') return text;
  let key = text;
  const location = /^s3:\/\/([^/]*)\/(.*)$/.exec(text);
  if (location) {
    if (location[1] !== bucket)
      throw new ConfigurationError(
        `Input \`backup-key\` names a backup in bucket \`${logSafe(location[1], 100)}\`, but input \`bucket\` is \`${bucket}\`: set \`bucket\` to the backup's bucket, or give the key alone.`,
      );
    key = location[2];
  }
  // As in `prefix`: shipkit never writes a key that starts with `/`.
  key = key.replace(/^\/+/, '');
  const kind = kindOfKey(key);
  if (kind !== 'custom' && kind !== 'plain')
    throw new ConfigurationError(
      `Input \`backup-key\` must name a database backup (\`.dump\` or \`.sql.gz\`) or be \`latest\`; got \`${logSafe(text, 200)}\`${kind === 'files' ? ' (a files backup: download it and extract it with `tar -xzf`)' : ''}.`,
    );
  return key;
}

/** Reads and validates every input; throws ConfigurationError naming the first bad one. */
export function getInputs(
  p = new InputParser(),
  read: (name: string) => string = (n) => core.getInput(n),
): Inputs {
  const mode: Mode = p.choice('mode', MODES, 'pg-dump') ?? 'pg-dump';
  for (const [input, modes] of Object.entries(MODE_INPUTS)) {
    const value = read(input).trim();
    if (!modes.includes(mode) && value && value !== DEFAULTS[input]) {
      throw new ConfigurationError(
        `Input \`${input}\` is not used with \`mode: ${mode}\` (only with ${modes.map((m) => `\`${m}\``).join(', ')}); remove it.`,
      );
    }
  }
  const region = p.string('region');
  const environment = p.required('environment');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(environment)) {
    p.fail(
      'environment',
      environment,
      'a name of letters, digits, `.`, `_` and `-` such as `production`',
    );
  }
  const usesS3 = mode !== 'rds-snapshot';
  const bucket = usesS3 ? p.required('bucket') : undefined;
  if (bucket && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    p.fail('bucket', bucket, 'an S3 bucket name (3–63 lowercase letters, digits, `.` and `-`)');
  }
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  const prefixText = p.string('prefix');
  if (usesS3 && prefixText === undefined && !repository) {
    throw new ConfigurationError(
      'Input `prefix` is required outside GitHub Actions (its default is `<repository>/<environment>/`).',
    );
  }
  const prefix = normalizePrefix(prefixText ?? `${repository}/${environment}/`);
  if (/(^|\/)\.\.?(\/|$)/.test(prefix))
    p.fail('prefix', prefixText ?? '', 'a key prefix without `.` or `..` segments');

  const sse = p.choice('sse', ['AES256', 'aws:kms'] as const, 'AES256') ?? 'AES256';
  const kmsKeyId = p.string('kms-key-id');
  if (kmsKeyId && sse !== 'aws:kms')
    throw new ConfigurationError('Input `kms-key-id` needs `sse: aws:kms`.');
  const storageClassText = p.string('storage-class');
  if (storageClassText && ['GLACIER', 'DEEP_ARCHIVE'].includes(storageClassText)) {
    p.fail(
      'storage-class',
      storageClassText,
      `a class a backup can be read back from at once (${STORAGE_CLASSES.join(', ')}); archive classes belong in a lifecycle rule`,
    );
  }
  const storageClass = p.choice('storage-class', STORAGE_CLASSES);
  const keepDays = p.int('keep-days', { default: 30, min: 1, max: 36_500 }) ?? 30;
  const keepLast = p.int('keep-last', { default: 7, min: 1, max: 10_000 }) ?? 7;
  const dryRun = p.bool('dry-run', false);
  const forcePathStyle = p.bool('s3-force-path-style', false);

  const database =
    mode === 'pg-dump' || mode === 'restore' ? connection(p, 'database-url', true) : undefined;
  const format = p.choice('format', ['custom', 'plain'] as const, 'custom') ?? 'custom';
  const compressionLevel = p.int('compression-level', { default: 1, min: 0, max: 9 }) ?? 1;
  const argsText = p.string('pg-dump-args') ?? '';
  let pgDumpArgs: string[];
  try {
    pgDumpArgs = splitArgs(argsText);
  } catch (error) {
    throw new ConfigurationError(`Input \`pg-dump-args\` ${(error as Error).message}.`);
  }
  const argsProblem = findPgDumpArgsProblem(pgDumpArgs);
  if (argsProblem)
    throw new ConfigurationError(`Input \`pg-dump-args\`${pgDumpArgsMessage(argsProblem)}.`);
  const verify = p.choice('verify', ['list', 'restore', 'none'] as const, 'list') ?? 'list';
  if (mode === 'files' && verify === 'restore') {
    throw new ConfigurationError(
      'Input `verify: restore` needs `mode: pg-dump`; files backups are verified with `list`.',
    );
  }
  if (
    mode === 'pg-dump' &&
    verify === 'restore' &&
    setsOption(pgDumpArgs, 'data-only', 'no-schema')
  ) {
    throw new ConfigurationError(
      'Input `verify: restore` cannot check a dump taken with `--data-only` or `--no-schema` (input `pg-dump-args`): it creates no tables, and the scratch database is emptied before each restore. Use `verify: list`.',
    );
  }
  // A plain dump with --create starts with CREATE DATABASE and \connect: it is restored by hand
  // (`psql -d postgres -f`), never into `database-url` in one transaction. Accepted as in v1.0,
  // said; a verification that restores it could never pass, so that is refused.
  if (format === 'plain' && setsOption(pgDumpArgs, 'create')) {
    if (mode === 'pg-dump' && verify === 'restore')
      throw new ConfigurationError(
        'Input `verify: restore` cannot check a plain dump taken with `--create` (input `pg-dump-args`): it creates and connects to its database by name, which a restore into `verify-database-url` (one transaction) cannot run. Leave `--create` out, or use `verify: list`.',
      );
    core.warning(
      'Input `pg-dump-args` has `--create` with `format: plain`: the dump creates its database by name and connects to it, so `mode: restore` cannot restore it into `database-url`; restore it by hand (`gunzip -c … | psql -d postgres`). Leave `--create` out to restore it with the action.',
    );
  }
  const verifyDatabase = connection(
    p,
    'verify-database-url',
    mode === 'pg-dump' && verify === 'restore',
  );
  if (verifyDatabase && verify !== 'restore')
    throw new ConfigurationError(
      'Input `verify-database-url` is only used with `verify: restore`.',
    );
  if (
    verifyDatabase &&
    database &&
    verifyDatabase.host === database.host &&
    verifyDatabase.port === database.port &&
    verifyDatabase.database === database.database
  ) {
    throw new ConfigurationError(
      'Input `verify-database-url` must name another database than `database-url`: verifying restores into it.',
    );
  }

  const paths = p.lines('paths');
  if (mode === 'files' && !paths.length)
    throw new ConfigurationError(
      'Input `paths` is required with `mode: files` (one path per line).',
    );

  const dbInstanceIdentifier = p.string('db-instance-identifier');
  const dbClusterIdentifier = p.string('db-cluster-identifier');
  if (mode === 'rds-snapshot' && !dbInstanceIdentifier === !dbClusterIdentifier) {
    throw new ConfigurationError(
      'Set exactly one of inputs `db-instance-identifier` and `db-cluster-identifier` with `mode: rds-snapshot`.',
    );
  }
  for (const [input, value] of [
    ['db-instance-identifier', dbInstanceIdentifier],
    ['db-cluster-identifier', dbClusterIdentifier],
  ] as const) {
    if (value && !/^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(value))
      p.fail(
        input,
        value,
        'an RDS identifier (a letter, then letters, digits and hyphens, at most 63)',
      );
  }

  const backupKey =
    mode === 'restore' ? backupKeyOf(p.required('backup-key'), bucket ?? '') : undefined;
  const allowOtherPrefix = p.bool('allow-other-prefix', false);
  if (backupKey && backupKey !== 'latest') {
    if (backupKey.split('/').some((segment) => segment === '.' || segment === '..'))
      throw new ConfigurationError(
        `Input \`backup-key\` may not contain \`.\` or \`..\` segments; got \`${logSafe(backupKey, 200)}\`.`,
      );
    if (!backupKey.startsWith(prefix) && !allowOtherPrefix) {
      throw new ConfigurationError(
        `Input \`backup-key\` is outside this run's prefix \`${prefix}\` (environment \`${environment}\`): got \`${logSafe(backupKey, 200)}\`. Restoring a backup from another prefix or environment needs \`allow-other-prefix: true\`.`,
      );
    }
  }
  if (mode === 'restore') {
    const confirm = p.required('confirm-database');
    if (confirm !== database?.database) {
      throw new ConfigurationError(
        `Input \`confirm-database\` must equal the name of the database being restored into (the database in \`database-url\`); got \`${logSafe(confirm, 200)}\`. Restoring replaces the objects the backup holds.`,
      );
    }
  }
  const timeoutMs =
    p.duration('timeout', {
      default: '1h',
      min: 1000,
      max: 24 * 3_600_000,
    }) ?? 3_600_000;

  const nameText = p.string('name');
  if (nameText !== undefined && !isFolderName(nameText))
    p.fail('name', nameText, 'letters, digits, `.`, `_` and `-`, not starting with `.` or `-`');
  let name = nameText;
  if (name === undefined) {
    const [what, from, derived] =
      mode === 'files'
        ? [
            'path',
            'the last segment of the first line of input `paths`',
            (paths[0] ?? 'files').replace(/\/+$/, '').split('/').pop() || 'files',
          ]
        : ['database name', 'from input `database-url`', database?.database ?? 'database'];
    if (!isFolderName(derived)) {
      throw new ConfigurationError(
        `The ${what} \`${logSafe(derived, 200)}\` (${from}) is not usable as a folder name as is (another ${what} could map to the same folder and share its retention): set input \`name\` (\`name: ${sanitizeName(derived)}\` keeps the folder earlier versions wrote to).`,
      );
    }
    name = derived;
  }

  const common: CommonInputs = { region, environment, dryRun, sha: process.env.GITHUB_SHA };
  if (mode === 'rds-snapshot') {
    const target = dbInstanceIdentifier
      ? { instance: dbInstanceIdentifier }
      : { cluster: dbClusterIdentifier ?? '' };
    return { mode, ...common, target, keepDays, keepLast, timeoutMs };
  }
  if (!bucket) throw new ConfigurationError('Input `bucket` is required and was not set.');
  const where: BucketInputs = { bucket, prefix, name, forcePathStyle };
  if (mode === 'restore') {
    if (!database || !backupKey)
      throw new ConfigurationError('Inputs `database-url` and `backup-key` are required.');
    return {
      mode,
      ...common,
      ...where,
      database,
      backupKey,
      allowOtherPrefix,
      nameFromDatabase: nameText === undefined,
    };
  }
  const write: WriteInputs = { sse, kmsKeyId, storageClass, keepDays, keepLast, compressionLevel };
  if (mode === 'files') {
    return {
      mode,
      ...common,
      ...where,
      ...write,
      paths,
      verify: { kind: verify === 'none' ? 'none' : 'list' },
    };
  }
  if (!database) throw new ConfigurationError('Input `database-url` is required.');
  return {
    mode,
    ...common,
    ...where,
    ...write,
    database,
    format,
    pgDumpArgs,
    verify:
      verify === 'restore' && verifyDatabase
        ? { kind: 'restore', database: verifyDatabase }
        : { kind: verify === 'none' ? 'none' : 'list' },
  };
}
