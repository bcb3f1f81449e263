import { clientEnv, parseDatabaseUrl, splitArgs } from '../../../packages/backup/src/connection';
import {
  chooseClient,
  parseClientVersion,
  serverMajor,
  type PgClient,
} from '../../../packages/backup/src/clients';
import {
  backupFolder,
  backupKey,
  formatTimestamp,
  kindOfKey,
  normalizePrefix,
  snapshotIdentifier,
} from '../../../packages/backup/src/keys';
import { checkOutput } from '../../../packages/backup/src/backup';
import {
  pgDumpArgs,
  plainGzipBy,
  type DumpSource,
  type PlainGzip,
} from '../../../packages/backup/src/source';
import { compareCounts } from '../../../packages/backup/src/verify';
import { parseCounts } from '../../../packages/backup/src/pg';
import { pickLatest } from '../../../packages/backup/src/restore';

const at = new Date('2026-03-05T04:07:09.456Z');

describe('backup keys', () => {
  it.each([
    [
      {
        prefix: 'acme/shop/production/',
        name: 'app',
        kind: 'custom' as const,
        sha: 'ABCDEF1234567',
      },
      'acme/shop/production/app/2026/03/05/app-20260305T040709Z-abcdef1.dump',
    ],
    [
      { prefix: 'x', name: 'app', kind: 'plain' as const, sha: undefined },
      'x/app/2026/03/05/app-20260305T040709Z-nosha.sql.gz',
    ],
    [
      { prefix: '/x//', name: 'my-db', kind: 'files' as const, sha: 'abc1234', attempt: 2 },
      'x/my-db/2026/03/05/my-db-20260305T040709Z-abc1234-2.tar.gz',
    ],
  ])('%o → %s', (parts, expected) => {
    expect(backupKey({ ...parts, at })).toBe(expected);
  });

  it('refuses a name that is not already a folder name, instead of folding it into another', () => {
    for (const name of ['my db!', 'shop data', '-x', '.hidden', 'a/b', '', 'x-'])
      expect(() => backupFolder('p/', name)).toThrow(/is not usable as a folder name/);
  });

  it.each([['shop data', 'shop-data', 'shop_data', 'shop.data', 'Shop-Data', 'shop--data']])(
    'distinct names never share a folder (%s …)',
    (...names) => {
      const folders = new Map<string, string>();
      for (const name of names) {
        let folder: string;
        try {
          folder = backupFolder('acme/shop/production/', name);
        } catch {
          continue; // refused: it writes nowhere
        }
        expect([name, folders.get(folder)]).toEqual([name, undefined]);
        folders.set(folder, name);
      }
      expect(folders.size).toBeGreaterThan(1);
    },
  );

  it('keys of one database sort by time', () => {
    const keys = [0, 1, 61, 3600 * 30].map((s) =>
      backupKey({
        prefix: 'p/',
        name: 'db',
        kind: 'custom',
        sha: 'abcdef0',
        at: new Date(at.getTime() + s * 1000),
      }),
    );
    expect([...keys].sort()).toEqual(keys);
    expect(new Set(keys).size).toBe(4);
  });

  it.each([
    ['a/b.dump', 'custom'],
    ['a/b.sql.gz', 'plain'],
    ['a/b.tar.gz', 'files'],
    ['a/b.sql', undefined],
  ])('kind of %s is %s', (key, kind) => expect(kindOfKey(key)).toBe(kind));

  it('formats timestamps and prefixes', () => {
    expect(formatTimestamp(at)).toBe('20260305T040709Z');
    expect(normalizePrefix('')).toBe('');
    expect(normalizePrefix('a/b')).toBe('a/b/');
  });

  it('names snapshots within RDS rules', () => {
    const id = snapshotIdentifier({
      environment: 'Prod_EU',
      source: 'shop-db',
      at,
      sha: 'abcdef123',
    });
    expect(id).toBe('shipkit-prod-eu-shop-db-20260305-040709-abcdef1');
    expect(id).toMatch(/^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/);
  });
});

describe('database URLs', () => {
  it('takes the password out of the URL', () => {
    const c = parseDatabaseUrl(
      'postgres://app:p%40ss%3Aword@db.internal:6543/shop?sslmode=require',
    );
    expect(c).toMatchObject({
      password: 'p@ss:word',
      database: 'shop',
      user: 'app',
      host: 'db.internal',
      port: 6543,
      display: 'app@db.internal:6543/shop',
    });
    expect(c.url).toBe('postgresql://app@db.internal:6543/shop?sslmode=require');
    expect(c.url).not.toContain('p%40ss');
  });

  it('takes a password parameter out too', () => {
    const c = parseDatabaseUrl('postgresql://app@db/shop?password=secret&application_name=x');
    expect(c.password).toBe('secret');
    expect(c.url).toBe('postgresql://app@db/shop?application_name=x');
  });

  it.each([
    ['not a url', /not a URL/],
    ['mysql://a:b@h/db', /must start with postgresql/],
    ['postgresql://a:b@h:5432/', /must name the database/],
    [
      'postgresql://a:b/c@h/db',
      /not a URL of the form .* \(percent-encode `\/`, `\?`, `#`, `@` and `%`/,
    ],
    [
      'postgresql://a:b%zz@h/db',
      /has a `%` not followed by two hex digits: percent-encode .*`%25`/,
    ],
    ['postgresql://a:b@h/50%off', /has a `%` not followed by two hex digits/],
  ])('rejects %s without echoing it', (text, message) => {
    expect(() => parseDatabaseUrl(text)).toThrow(message);
    try {
      parseDatabaseUrl(text);
    } catch (error) {
      expect((error as Error).message).not.toContain(':b@');
    }
  });

  it('passes the password through the environment only', () => {
    const env = clientEnv(parseDatabaseUrl('postgresql://u:pw@h/db'), {
      PGPASSWORD: 'other',
      PATH: '/bin',
    });
    expect(env.PGPASSWORD).toBe('pw');
    expect(
      clientEnv(parseDatabaseUrl('postgresql://u@h/db'), { PGPASSWORD: 'other' }).PGPASSWORD,
    ).toBeUndefined();
  });
});

describe('pg-dump-args', () => {
  it.each([
    [
      '--exclude-table-data=audit_log -n public',
      ['--exclude-table-data=audit_log', '-n', 'public'],
    ],
    [`-T "my table" --exclude-schema='a b'`, ['-T', 'my table', '--exclude-schema=a b']],
    ['a\\ b ""', ['a b', '']],
  ])('splits %s', (text, args) => expect(splitArgs(text)).toEqual(args));

  it('rejects an unterminated quote', () =>
    expect(() => splitArgs('-T "x')).toThrow(/unterminated/));
});

describe('who compresses a dump', () => {
  it.each([
    [1, 2, 'pg_dump'],
    [9, 3, 'pg_dump'],
    [1, 4, 'parallel'],
    [6, 64, 'parallel'],
    [0, 2, 'parallel'],
    [0, 8, 'parallel'],
  ] as const)('plain SQL at level %i with %i CPUs is gzipped by %s', (level, cpus, by) =>
    expect(plainGzipBy(level, cpus)).toBe(by),
  );

  const source = (format: 'custom' | 'plain', plainGzip?: PlainGzip): DumpSource => ({
    type: 'pg-dump',
    conn: parseDatabaseUrl('postgresql://app@db.internal/app'),
    client: { bindir: '/usr/bin', major: 15, version: '15.8' },
    format,
    extraArgs: ['-n', 'public'],
    plainGzip,
  });
  const compressArg = (args: string[]): string | undefined =>
    args.includes('--compress') ? args[args.indexOf('--compress') + 1] : undefined;

  it.each([
    ['custom', undefined, 6, '6'],
    ['custom', undefined, 0, '0'],
    ['plain', 'pg_dump', 3, '3'],
    ['plain', 'parallel', 3, undefined],
  ] as const)(
    'pg_dump for %s output (plain gzipped by %s) at level %i gets --compress %s',
    (format, by, level, expected) =>
      expect(compressArg(pgDumpArgs(source(format, by), level))).toBe(expected),
  );

  it.each([
    ['custom', [], false],
    ['plain', [], true],
    ['plain', ['--schema-only'], true],
    ['plain', ['--data-only'], false],
    ['plain', ['--data'], false],
    ['plain', ['-av'], false],
    ['plain', ['-n', 'public', '-a'], false],
    ['plain', ['--create'], false],
    ['plain', ['-Cv'], false],
  ] as const)(
    'a %s dump with extra arguments %j drops each object before creating it: %s',
    (format, extra, clean) => {
      const args = pgDumpArgs({ ...source(format), extraArgs: extra }, 1);
      expect(args.includes('--clean') && args.includes('--if-exists')).toBe(clean);
      expect(args.includes('--clean') || args.includes('--if-exists')).toBe(clean);
    },
  );

  it('keeps the extra arguments and ends with the database', () => {
    const args = pgDumpArgs(source('plain', 'pg_dump'), 1);
    expect(args.slice(0, 7)).toEqual([
      '--no-password',
      '--format',
      'plain',
      '--compress',
      '1',
      '--clean',
      '--if-exists',
    ]);
    expect(args.slice(-4)).toEqual([
      '-n',
      'public',
      '--dbname',
      'postgresql://app@db.internal/app',
    ]);
  });
});

describe('client selection', () => {
  const c = (major: number): PgClient => ({
    major,
    version: `${major}.2`,
    bindir: `/pg/${major}/bin`,
  });
  it.each([
    [[c(17), c(16), c(15)], 15, 15],
    [[c(17), c(14)], 15, 17],
    [[c(17), c(16), c(14)], 15, 16],
  ])('from %j for server %i picks %i', (clients, server, expected) => {
    expect(chooseClient(clients, server).major).toBe(expected);
  });

  it('says clearly when every pg_dump is older than the server', () => {
    expect(() => chooseClient([c(15), c(14)], 16)).toThrow(
      /pg_dump 15\.2 is older than the server \(PostgreSQL 16\).*postgresql-client-16/,
    );
  });

  it('says clearly when there is no client', () => {
    expect(() => chooseClient([], 16)).toThrow(/No PostgreSQL client programs/);
  });

  it.each([
    ['pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)', 15, '15.18'],
    ['pg_dump (PostgreSQL) 17beta1', 17, '17'],
  ])('parses %s', (text, major, version) =>
    expect(parseClientVersion(text)).toEqual({ major, version }),
  );

  it('reads server_version_num', () => {
    expect(serverMajor(150004)).toBe(15);
    expect(serverMajor(90624)).toBe(9);
  });
});

describe('dump sanity checks', () => {
  const probe = (
    bytes: number,
    head: string,
    tail: string,
  ): { bytes: number; head: Buffer; tail: Buffer } => ({
    bytes,
    head: Buffer.from(head),
    tail: Buffer.from(tail),
  });
  it.each([
    ['custom', probe(0, '', ''), /wrote nothing/],
    ['custom', probe(100, 'HELLO', ''), /does not start like a pg_dump archive/],
    ['plain', probe(100, '--', 'CREATE TABLE x ('), /truncated/],
    ['files', probe(512, '', ''), /truncated/],
  ] as const)('%s output %o fails', (kind, p, message) =>
    expect(checkOutput(kind, p)).toMatch(message),
  );

  const gzipped = (bytes: number): { bytes: number; head: Buffer; tail: Buffer } => ({
    ...probe(bytes, '', ''),
    head: Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255]),
  });
  it.each([
    [probe(0, '', ''), /wrote nothing/],
    [probe(4000, '-- PostgreSQL database dump', ''), /does not start like a gzip stream/],
    [gzipped(12), /shorter than a gzip stream/],
  ])('plain output pg_dump gzipped %o fails', (p, message) =>
    expect(checkOutput('plain', p, true)).toMatch(message),
  );

  it('plain output pg_dump gzipped passes with a gzip header and more than a trailer', () =>
    expect(checkOutput('plain', gzipped(4000), true)).toBeUndefined());

  it.each([
    ['custom', probe(100, 'PGDMP\x01', '')],
    ['plain', probe(100, '--', '\n--\n-- PostgreSQL database dump complete\n--\n\n')],
    ['files', probe(10240, '', '')],
  ] as const)('%s output passes', (kind, p) => expect(checkOutput(kind, p)).toBeUndefined());
});

describe('row count comparison', () => {
  const m = (o: Record<string, number>): Map<string, number> => new Map(Object.entries(o));
  const whole = { partial: false, dataLeftOut: false };
  it('passes equal counts and fails a difference or a missing table', () => {
    expect(compareCounts(m({ a: 1, b: 2 }), m({ a: 1, b: 2 }), whole).ok).toBe(true);
    expect(
      compareCounts(m({ a: 1, b: 2 }), m({ a: 1, b: 3 }), whole)
        .rows.filter((r) => !r.ok)
        .map((r) => r.table),
    ).toEqual(['b']);
    expect(compareCounts(m({ a: 1, b: 2 }), m({ a: 1 }), whole).ok).toBe(false);
  });
  it('accepts a table left out by pg-dump-args, never a wrong count', () => {
    const partial = { partial: true, dataLeftOut: false };
    expect(compareCounts(m({ a: 1, b: 2 }), m({ a: 1 }), partial).ok).toBe(true);
    expect(compareCounts(m({ a: 1 }), m({ a: 0 }), partial).ok).toBe(false);
  });
  it('accepts a table restored empty when pg-dump-args leave data out, and says so; never another count', () => {
    const dataLeftOut = { partial: true, dataLeftOut: true };
    const compared = compareCounts(m({ a: 5, b: 2, c: 0 }), m({ a: 0, b: 2, c: 0 }), dataLeftOut);
    expect(compared.ok).toBe(true);
    expect(compared.rows.map((r) => [r.table, r.dataLeftOut ?? false])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
    ]);
    expect(compareCounts(m({ a: 5 }), m({ a: 3 }), dataLeftOut).ok).toBe(false);
    expect(compareCounts(m({ a: 5 }), m({ a: 0 }), { partial: false, dataLeftOut: false }).ok).toBe(
      false,
    );
  });
});

describe('latest backup', () => {
  it('picks the newest database backup, ignoring other files', () => {
    const t = (d: string): Date => new Date(d);
    expect(
      pickLatest([
        { key: 'p/a.dump', lastModified: t('2026-01-01'), size: 1 },
        { key: 'p/b.sql.gz', lastModified: t('2026-01-03'), size: 1 },
        { key: 'p/c.tar.gz', lastModified: t('2026-01-05'), size: 1 },
        { key: 'p/notes.txt', lastModified: t('2026-01-06'), size: 1 },
      ])?.key,
    ).toBe('p/b.sql.gz');
    expect(pickLatest([])).toBeUndefined();
  });
});

describe('row counts as psql prints them', () => {
  it('reads table names holding line breaks and bars (one JSON string per line)', () => {
    const out = '"public.orders"|12\n"public.t\\n::error::x|y"|2\n';
    expect([...parseCounts(out)]).toEqual([
      ['public.orders', 12],
      ['public.t\n::error::x|y', 2],
    ]);
  });
});
