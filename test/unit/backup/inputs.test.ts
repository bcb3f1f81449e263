import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputParser } from '../../../packages/kit/src/inputs';
import { getInputs, type Inputs } from '../../../actions/db-backup/src/inputs';

const URL_ = 'postgresql://app:s3cret@db:5432/shop';

function parse(inputs: Record<string, string>): Inputs {
  const read = (name: string): string => inputs[name] ?? '';
  return getInputs(new InputParser(read), read);
}

/** The inputs of one mode; fails the test when another mode was read. */
function parseAs<M extends Inputs['mode']>(
  mode: M,
  inputs: Record<string, string>,
): Extract<Inputs, { mode: M }> {
  const parsed = parse(inputs);
  if (parsed.mode !== mode) throw new Error(`read mode ${parsed.mode}, expected ${mode}`);
  return parsed as Extract<Inputs, { mode: M }>;
}

beforeEach(() => {
  process.env.GITHUB_REPOSITORY = 'acme/shop';
});

describe('db-backup inputs', () => {
  it('applies the documented defaults', () => {
    const i = parseAs('pg-dump', {
      environment: 'production',
      bucket: 'backups',
      'database-url': URL_,
    });
    expect(i).toMatchObject({
      mode: 'pg-dump',
      prefix: 'acme/shop/production/',
      name: 'shop',
      sse: 'AES256',
      keepDays: 30,
      keepLast: 7,
      dryRun: false,
      format: 'custom',
      compressionLevel: 1,
      verify: { kind: 'list' },
    });
    expect(i.database.password).toBe('s3cret');
    expect(i.database.url).not.toContain('s3cret');
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['a missing environment', { environment: '' }, /`environment` is required/],
    ['an unknown mode', { mode: 'dump' }, /`mode` must be one of/],
    ['kms-key-id without aws:kms', { 'kms-key-id': 'k' }, /`kms-key-id` needs `sse: aws:kms`/],
    [
      'an archive storage class',
      { 'storage-class': 'GLACIER' },
      /`storage-class` must be a class a backup can be read back from/,
    ],
    ['keep-last 0', { 'keep-last': '0' }, /`keep-last` must be a whole number from 1/],
    [
      'a bad compression level',
      { 'compression-level': '11' },
      /`compression-level` must be a whole number from 0 to 9/,
    ],
    [
      'pg-dump-args that set the output',
      { 'pg-dump-args': '-f /tmp/x' },
      /`pg-dump-args` may not contain `-f`/,
    ],
    [
      'verify restore without a verify database',
      { verify: 'restore' },
      /`verify-database-url` is required/,
    ],
    [
      'verify restore of a data-only dump, which creates no tables to restore into',
      {
        verify: 'restore',
        'verify-database-url': 'postgresql://app:s3cret@db:5432/scratch',
        'pg-dump-args': '-a',
      },
      /^Input `verify: restore` cannot check a dump taken with `--data-only` or `--no-schema` \(input `pg-dump-args`\).*Use `verify: list`/,
    ],
    [
      'verify restore of a dump without definitions (--no-schema)',
      {
        verify: 'restore',
        'verify-database-url': 'postgresql://app:s3cret@db:5432/scratch',
        'pg-dump-args': '--no-schema',
      },
      /cannot check a dump taken with `--data-only` or `--no-schema`/,
    ],
    [
      'verify restore of a plain dump taken with --create, which no restore into a database can run',
      {
        format: 'plain',
        'pg-dump-args': '-C',
        verify: 'restore',
        'verify-database-url': 'postgresql://app:s3cret@db:5432/scratch',
      },
      /^Input `verify: restore` cannot check a plain dump taken with `--create`/,
    ],
    [
      'a verify database equal to the source',
      { verify: 'restore', 'verify-database-url': URL_ },
      /must name another database/,
    ],
    [
      'a files-mode input in pg-dump mode',
      { paths: 'data' },
      /`paths` is not used with `mode: pg-dump`/,
    ],
    [
      'a non-postgres URL',
      { 'database-url': 'mysql://u:p@h/db' },
      /`database-url` must start with postgresql/,
    ],
    ['a bad bucket name', { bucket: 'Bad_Bucket' }, /`bucket` must be an S3 bucket name/],
  ])('rejects %s', (_name, extra, message) => {
    expect(() =>
      parse({ environment: 'production', bucket: 'backups', 'database-url': URL_, ...extra }),
    ).toThrow(message);
  });

  it('never echoes the database URL in an error', () => {
    expect(() =>
      parse({
        environment: 'production',
        bucket: 'backups',
        'database-url': 'postgresql://u:hunter2@h:5432/',
      }),
    ).toThrow(/^((?!hunter2).)*$/);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['without confirm-database', {}, /`confirm-database` is required/],
    [
      'with another database confirmed',
      { 'confirm-database': 'other' },
      /`confirm-database` must equal the name of the database/,
    ],
    [
      'without backup-key',
      { 'backup-key': '', 'confirm-database': 'shop' },
      /`backup-key` is required/,
    ],
  ])('restore refuses to run %s', (_name, extra, message) => {
    expect(() =>
      parse({
        mode: 'restore',
        environment: 'production',
        bucket: 'backups',
        'database-url': URL_,
        'backup-key': 'latest',
        ...extra,
      }),
    ).toThrow(message);
  });

  describe('restore is confined to the configured prefix', () => {
    const restore = (extra: Record<string, string>): Extract<Inputs, { mode: 'restore' }> =>
      parseAs('restore', {
        mode: 'restore',
        environment: 'staging',
        bucket: 'backups',
        'database-url': URL_,
        'confirm-database': 'shop',
        ...extra,
      });
    const PROD = 'acme/shop/production/shop/2026/01/01/shop-20260101T000000Z-abcdef0.dump';
    const STAGING = 'acme/shop/staging/shop/2026/01/01/shop-20260101T000000Z-abcdef0.dump';

    it.each<[string, Record<string, string>, RegExp | string]>([
      ['a key of this environment', { 'backup-key': STAGING }, STAGING],
      ['latest (always under the prefix)', { 'backup-key': 'latest' }, 'latest'],
      [
        "another environment's key",
        { 'backup-key': PROD },
        /`backup-key` is outside this run's prefix `acme\/shop\/staging\/` .*`allow-other-prefix: true`/,
      ],
      [
        "another environment's key with allow-other-prefix",
        { 'backup-key': PROD, 'allow-other-prefix': 'true' },
        PROD,
      ],
      [
        'a key that climbs out of the prefix with ..',
        { 'backup-key': 'acme/shop/staging/../production/shop/x.dump' },
        /`backup-key` may not contain `\.` or `\.\.` segments/,
      ],
      [
        'a .. key even with allow-other-prefix',
        {
          'backup-key': 'acme/shop/staging/shop/../../production/x.dump',
          'allow-other-prefix': 'true',
        },
        /`backup-key` may not contain `\.` or `\.\.` segments/,
      ],
      [
        'the location output of a backup in the same bucket',
        { 'backup-key': `s3://backups/${STAGING}` },
        STAGING,
      ],
      ['a key with a leading slash, as prefix allows', { 'backup-key': `/${STAGING}` }, STAGING],
      [
        'a location in another bucket',
        { 'backup-key': `s3://other-backups/${STAGING}` },
        /`backup-key` names a backup in bucket `other-backups`, but input `bucket` is `backups`/,
      ],
      [
        'the key of a files backup',
        { 'backup-key': 'acme/shop/staging/data/2026/01/01/data-20260101T000000Z-abcdef0.tar.gz' },
        /`backup-key` must name a database backup \(`\.dump` or `\.sql\.gz`\) or be `latest`.*a files backup/,
      ],
      [
        'a key with no backup extension',
        { 'backup-key': 'acme/shop/staging/shop/2026/01/01/' },
        /`backup-key` must name a database backup/,
      ],
      [
        'a key that only starts like the prefix',
        { 'backup-key': 'acme/shop/staging-old/shop/x.dump' },
        /outside this run's prefix/,
      ],
    ])('%s', (_name, extra, expected) => {
      if (typeof expected === 'string') expect(restore(extra).backupKey).toBe(expected);
      else expect(() => restore(extra)).toThrow(expected);
    });

    it('allow-other-prefix is refused outside restore', () => {
      expect(() =>
        parse({
          environment: 'production',
          bucket: 'backups',
          'database-url': URL_,
          'allow-other-prefix': 'true',
        }),
      ).toThrow(/`allow-other-prefix` is not used with `mode: pg-dump`/);
    });
  });

  it('echoes a mistyped confirm-database on one line', () => {
    expect(() =>
      parse({
        mode: 'restore',
        environment: 'production',
        bucket: 'backups',
        'database-url': URL_,
        'backup-key': 'latest',
        'confirm-database': 'shop\n::error::planted',
      }),
    ).toThrow(/got `shop ⏎ ::error::planted`\. Restoring replaces the objects the backup holds\.$/);
  });

  it('accepts --create with a plain dump (as v1.0 did) and warns that the action cannot restore it', () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const i = parseAs('pg-dump', {
        environment: 'production',
        bucket: 'backups',
        'database-url': URL_,
        format: 'plain',
        'pg-dump-args': '--create',
      });
      expect(i.pgDumpArgs).toEqual(['--create']);
      const written = out.mock.calls.map((c) => String(c[0])).join('');
      expect(written).toMatch(
        /::warning::Input `pg-dump-args` has `--create` with `format: plain`: the dump creates its database by name/,
      );
    } finally {
      out.mockRestore();
    }
  });

  it('accepts a confirmed restore', () => {
    expect(
      parseAs('restore', {
        mode: 'restore',
        environment: 'production',
        bucket: 'backups',
        'database-url': URL_,
        'backup-key': 'latest',
        'confirm-database': 'shop',
      }).backupKey,
    ).toBe('latest');
  });

  it.each<[Record<string, string>, RegExp | undefined]>([
    [{}, /exactly one of inputs `db-instance-identifier` and `db-cluster-identifier`/],
    [{ 'db-instance-identifier': 'a', 'db-cluster-identifier': 'b' }, /exactly one/],
    [{ 'db-instance-identifier': 'shop-db' }, undefined],
    [
      { 'db-instance-identifier': 'shop-db', bucket: 'x' },
      /`bucket` is not used with `mode: rds-snapshot`/,
    ],
  ])('rds-snapshot with %o', (extra, message) => {
    const run = (): unknown => parse({ mode: 'rds-snapshot', environment: 'production', ...extra });
    if (message) expect(run).toThrow(message);
    else expect(run()).toMatchObject({ target: { instance: 'shop-db' }, timeoutMs: 3_600_000 });
  });

  it.each([
    ['shop%20data', 'shop-data'],
    ['shop%0A::set-output%20name=x::y', 'shop-set-output-name-x-y'],
  ])(
    'refuses a database name (%s) that would share a folder with another, and says which name to set',
    (db, hint) => {
      const read = (): unknown =>
        parse({
          environment: 'production',
          bucket: 'backups',
          'database-url': `postgresql://app:s3cret@db:5432/${db}`,
        });
      expect(read).toThrow(
        /^The database name `.*` \(from input `database-url`\) is not usable as a folder name as is/,
      );
      expect(read).toThrow(`set input \`name\` (\`name: ${hint}\` keeps the folder`);
    },
  );

  it('takes a database name that is already a folder name as is, and an explicit name for any other', () => {
    const base = { environment: 'production', bucket: 'backups' };
    expect(
      parseAs('pg-dump', { ...base, 'database-url': 'postgresql://app:s3cret@db:5432/shop-data' })
        .name,
    ).toBe('shop-data');
    expect(
      parseAs('pg-dump', {
        ...base,
        'database-url': 'postgresql://app:s3cret@db:5432/shop%20data',
        name: 'shop-data-2',
      }).name,
    ).toBe('shop-data-2');
  });

  it('refuses a files path whose last segment is not a folder name', () => {
    expect(() =>
      parse({ mode: 'files', environment: 'staging', bucket: 'backups', paths: 'data/my files/' }),
    ).toThrow(
      /path `my files` \(the last segment of the first line of input `paths`\) is not usable as a folder name as is .*`name: my-files`/,
    );
  });

  it('names files backups after the first path', () => {
    expect(
      parseAs('files', {
        mode: 'files',
        environment: 'staging',
        bucket: 'backups',
        paths: 'data/qdrant/\nconfig.yml',
      }).name,
    ).toBe('qdrant');
  });
});

describe('db-backup inputs as the runner passes them', () => {
  // The runner sets every input that has a default in action.yml, whatever the mode.
  const meta = parseYaml(
    readFileSync(join(__dirname, '../../../actions/db-backup/action.yml'), 'utf8'),
  ) as {
    inputs: Record<string, { default?: string; required?: boolean }>;
  };
  const defaults = Object.fromEntries(
    Object.entries(meta.inputs).map(([k, v]) => [k, String(v.default ?? '')]),
  );

  it.each<[string, Record<string, string>]>([
    ['pg-dump', { 'database-url': URL_ }],
    ['files', { paths: 'data' }],
    ['restore', { 'database-url': URL_, 'backup-key': 'latest', 'confirm-database': 'shop' }],
    ['rds-snapshot', { 'db-instance-identifier': 'shop-db', bucket: '' }],
  ])('accepts every default in mode %s', (mode, extra) => {
    expect(
      parse({ ...defaults, mode, environment: 'production', bucket: 'backups', ...extra }).mode,
    ).toBe(mode);
  });

  it('the defaults in action.yml are the ones the code applies', () => {
    const i = parseAs('pg-dump', {
      environment: 'production',
      bucket: 'backups',
      'database-url': URL_,
    });
    expect([defaults.mode, defaults.format, defaults.verify, defaults.sse]).toEqual([
      i.mode,
      i.format,
      i.verify.kind,
      i.sse,
    ]);
    expect(
      [defaults['keep-days'], defaults['keep-last'], defaults['compression-level']].map(Number),
    ).toEqual([i.keepDays, i.keepLast, i.compressionLevel]);
  });
});
