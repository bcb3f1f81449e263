import { InputParser } from '../../../packages/kit/src/inputs';
import { getInputs, type PgDumpInputs } from '../../../actions/db-backup/src/inputs';
import {
  dumpScope,
  findPgDumpArgsProblem,
  selectsPart,
} from '../../../packages/backup/src/pg-dump-args';

function withArgs(args: string): PgDumpInputs {
  const inputs: Record<string, string> = {
    environment: 'production',
    bucket: 'backups',
    'database-url': 'postgresql://app:s3cret@db:5432/shop',
    'pg-dump-args': args,
    prefix: 'backups/',
  };
  const read = (name: string): string => inputs[name] ?? '';
  const parsed = getInputs(new InputParser(read), read);
  if (parsed.mode !== 'pg-dump') throw new Error(`read mode ${parsed.mode}`);
  return parsed;
}

describe('pg-dump-args read as pg_dump reads them', () => {
  it.each<[string, RegExp]>([
    // Abbreviations and bundles that slipped past a check of whole spellings.
    [
      '--fil=/tmp/out.dump',
      /may not contain `--fil=\/tmp\/out.dump` \(--file\): the output goes to S3/,
    ],
    ['-vf /tmp/out.dump', /may not contain `-vf` \(--file\): the output goes to S3/],
    ['--form=d', /`--form=d` \(--format\): use input `format`/],
    ['--compr=9', /`--compr=9` \(--compress\): use input `compression-level`/],
    ['-xvZ9', /`-xvZ9` \(--compress\)/],
    ['--f=x', /\(--file\)/],
    ['--snap=0000-1', /\(--snapshot\)/],
    ['--po 5433', /\(--port\): use input `database-url`/],
    ['--user=postgres', /\(--username\): use input `database-url`/],
    ['--pass', /\(--password\): passwords come from `database-url`/],
    ['-j4', /\(--jobs\): parallel dumps need the directory format/],
    ['--jobs 4', /\(--jobs\)/],
    ['--vers', /\(--version\): it prints and exits instead of dumping/],
    ['-V', /\(--version\)/],
    ['-Fp', /use input `format`/],
    ['--file=x', /output goes to S3/],
    ['-Z 9', /compression-level/],
    ['-h x', /database-url/],
    ['--dbname=postgresql://u:p@h/d', /database-url/],
    ['-W', /environment/],
    // Words pg_dump would take for the database, and options it does not know.
    [
      'otherdb',
      /may not contain `otherdb`: pg_dump would dump the database it names; use input `database-url`/,
    ],
    [
      '-n public postgresql://u@h/other',
      /`postgresql:\/\/u@h\/other`: pg_dump would dump the database it names/,
    ],
    ['-- otherdb', /`otherdb`: pg_dump would dump/],
    ['--no-such-option', /`--no-such-option` is not a pg_dump option/],
    ['-q', /`-q` is not a pg_dump option/],
    ['--ex=x', /`--ex=x` is ambiguous \(--extension, --exclude-schema/],
    ['--no-comments=yes', /`--no-comments=yes`: --no-comments takes no value/],
    ['-n public -t', /`-t` needs a value/],
  ])('refuses %s', (args, message) => {
    expect(() => withArgs(args)).toThrow(message);
  });

  it.each<[string, string[]]>([
    ['--exclude-table-data=audit_log', ['--exclude-table-data=audit_log']],
    [
      '--exclude-table-data audit_log -n public',
      ['--exclude-table-data', 'audit_log', '-n', 'public'],
    ],
    ['-n public --no-comments -T x', ['-n', 'public', '--no-comments', '-T', 'x']],
    // A value is taken whole, whatever it looks like: here `-f` is a table name pattern.
    ['-t -f', ['-t', '-f']],
    ['-tfoo -vx', ['-tfoo', '-vx']],
    ['--no-priv --no-acl', ['--no-priv', '--no-acl']],
    ['--exclude-table-data-and=x', ['--exclude-table-data-and=x']],
    [
      '--lock-wait-timeout=5s --section pre-data',
      ['--lock-wait-timeout=5s', '--section', 'pre-data'],
    ],
    [`-T "my table"`, ['-T', 'my table']],
  ])('accepts %s', (args, parsed) => {
    expect(withArgs(args).pgDumpArgs).toEqual(parsed);
  });

  it('reports facts, not input names', () => {
    expect(findPgDumpArgsProblem(['-vf', 'out'])).toEqual({
      kind: 'owned',
      arg: '-vf',
      option: '--file',
      ownedBy: 'output',
    });
    expect(findPgDumpArgsProblem(['--t', 'x'])).toEqual({
      kind: 'ambiguous',
      arg: '--t',
      candidates: ['--table', '--table-and-children'],
    });
  });
});

describe('what a dump leaves out, by its pg-dump-args', () => {
  it.each<[string[], { partial: boolean; dataLeftOut: boolean }]>([
    [[], { partial: false, dataLeftOut: false }],
    [['-n', 'billing'], { partial: true, dataLeftOut: false }],
    [['--exclude-table=audit'], { partial: true, dataLeftOut: false }],
    [['--exclude-table-data=audit_log'], { partial: true, dataLeftOut: true }],
    [['--exclude-table-data', 'audit_log'], { partial: true, dataLeftOut: true }],
    [['--exclude-table-data-and-children=audit'], { partial: true, dataLeftOut: true }],
    [['-s'], { partial: true, dataLeftOut: true }],
    [['--schema-only'], { partial: true, dataLeftOut: true }],
    [['-vs'], { partial: true, dataLeftOut: true }],
    [['--no-data'], { partial: true, dataLeftOut: true }],
  ])('%j → %j', (args, scope) => expect(dumpScope(args)).toEqual(scope));
});

describe('which pg-dump-args make a backup of part of the database', () => {
  it.each<[string[], boolean]>([
    [[], false],
    [['--no-owner', '--no-privileges', '--no-comments'], false],
    [['--inserts', '--lock-wait-timeout=10s'], false],
    [['-n', 'billing'], true],
    [['-N', 'audit'], true],
    [['-t', 'orders'], true],
    [['-T', 'events'], true],
    [['--exclude-table-data=audit_log'], true],
    [['-s'], true],
    [['-a'], true],
    [['--section=pre-data'], true],
    [['-B'], true],
  ])('%j → %s', (args, partial) => expect(selectsPart(args)).toBe(partial));
});
