// Reading extra pg_dump arguments the way pg_dump reads them (getopt_long), so that no spelling
// of an option the backup sets itself (an abbreviation, a bundle of short options, `--opt=value`)
// slips past the check.

/** Why an option is the backup's own and may not be passed. */
export type OwnedBy =
  /** -f/--file: the output is the backup stream. */
  | 'output'
  /** -F/--format. */
  | 'format'
  /** -Z/--compress. */
  | 'compression'
  /** -d/--dbname, -h/--host, -p/--port, -U/--username: the connection. */
  | 'connection'
  /** -W/--password: would prompt; the password comes through the environment. */
  | 'password'
  /** -j/--jobs: needs the directory format, which cannot be streamed. */
  | 'jobs'
  /** --snapshot: set when rows are counted in the dumped snapshot. */
  | 'snapshot'
  /** -?/--help, -V/--version: print text and exit instead of dumping. */
  | 'prints';

interface OptionSpec {
  long: string;
  short?: string;
  /** Takes a value (`required_argument`). */
  value: boolean;
  owned?: OwnedBy;
}

const o = (
  long: string,
  short: string | undefined,
  value: boolean,
  owned?: OwnedBy,
): OptionSpec => ({
  long,
  short,
  value,
  owned,
});

/**
 * pg_dump's options, the union of PostgreSQL 13 to 18 (`long_options` and the short option
 * string `abBcCd:e:E:f:F:h:j:n:N:Op:RsS:t:T:U:vwWxZ:` in pg_dump.c). An option a version lacks
 * only makes that pg_dump fail, never the check pass something it should not.
 */
export const PG_DUMP_OPTIONS: readonly OptionSpec[] = [
  o('data-only', 'a', false),
  o('blobs', 'b', false),
  o('large-objects', undefined, false),
  o('no-blobs', 'B', false),
  o('no-large-objects', undefined, false),
  o('clean', 'c', false),
  o('create', 'C', false),
  o('dbname', 'd', true, 'connection'),
  o('extension', 'e', true),
  o('encoding', 'E', true),
  o('file', 'f', true, 'output'),
  o('format', 'F', true, 'format'),
  o('host', 'h', true, 'connection'),
  o('jobs', 'j', true, 'jobs'),
  o('schema', 'n', true),
  o('exclude-schema', 'N', true),
  o('no-owner', 'O', false),
  o('port', 'p', true, 'connection'),
  o('no-reconnect', 'R', false),
  o('schema-only', 's', false),
  o('superuser', 'S', true),
  o('table', 't', true),
  o('exclude-table', 'T', true),
  o('username', 'U', true, 'connection'),
  o('verbose', 'v', false),
  o('no-password', 'w', false),
  o('password', 'W', false, 'password'),
  o('no-privileges', 'x', false),
  o('no-acl', undefined, false),
  o('compress', 'Z', true, 'compression'),
  o('help', '?', false, 'prints'),
  o('version', 'V', false, 'prints'),
  o('attribute-inserts', undefined, false),
  o('binary-upgrade', undefined, false),
  o('column-inserts', undefined, false),
  o('disable-dollar-quoting', undefined, false),
  o('disable-triggers', undefined, false),
  o('enable-row-security', undefined, false),
  o('exclude-table-data', undefined, true),
  o('extra-float-digits', undefined, true),
  o('if-exists', undefined, false),
  o('inserts', undefined, false),
  o('lock-wait-timeout', undefined, true),
  o('no-table-access-method', undefined, false),
  o('no-tablespaces', undefined, false),
  o('quote-all-identifiers', undefined, false),
  o('load-via-partition-root', undefined, false),
  o('role', undefined, true),
  o('section', undefined, true),
  o('serializable-deferrable', undefined, false),
  o('snapshot', undefined, true, 'snapshot'),
  o('statistics-only', undefined, false),
  o('strict-names', undefined, false),
  o('use-set-session-authorization', undefined, false),
  o('no-comments', undefined, false),
  o('no-data', undefined, false),
  o('no-policies', undefined, false),
  o('no-publications', undefined, false),
  o('no-schema', undefined, false),
  o('no-security-labels', undefined, false),
  o('no-statistics', undefined, false),
  o('no-subscriptions', undefined, false),
  o('no-toast-compression', undefined, false),
  o('no-unlogged-table-data', undefined, false),
  o('no-sync', undefined, false),
  o('on-conflict-do-nothing', undefined, false),
  o('rows-per-insert', undefined, true),
  o('include-foreign-data', undefined, true),
  o('table-and-children', undefined, true),
  o('exclude-table-and-children', undefined, true),
  o('exclude-table-data-and-children', undefined, true),
  o('sync-method', undefined, true),
  o('filter', undefined, true),
  o('exclude-extension', undefined, true),
  o('sequence-data', undefined, false),
  o('statistics', undefined, false),
  o('with-data', undefined, false),
  o('with-schema', undefined, false),
  o('with-statistics', undefined, false),
];

/** What is wrong with extra pg_dump arguments: a fact, for the caller to phrase. */
export type PgDumpArgsProblem =
  /** `arg` sets `option` (as `--long`), which the backup sets itself. */
  | { kind: 'owned'; arg: string; option: string; ownedBy: OwnedBy }
  /** Not an option pg_dump knows. */
  | { kind: 'unknown'; arg: string }
  /** An abbreviation of several options. */
  | { kind: 'ambiguous'; arg: string; candidates: string[] }
  /** An option that takes a value, given none. */
  | { kind: 'missing-value'; arg: string; option: string }
  /** An option that takes no value, given one with `=`. */
  | { kind: 'unexpected-value'; arg: string; option: string }
  /** A word that is no option: pg_dump would take it for the database to dump. */
  | { kind: 'positional'; arg: string };

/** The long options an abbreviation can mean, as getopt_long resolves it (an exact name wins). */
function longCandidates(name: string): OptionSpec[] {
  const exact = PG_DUMP_OPTIONS.find((s) => s.long === name);
  if (exact) return [exact];
  return PG_DUMP_OPTIONS.filter((s) => s.long.startsWith(name));
}

/**
 * Reads `args` as pg_dump's getopt_long would: `--name`, `--name=value` and `--name value`,
 * any unambiguous abbreviation of a long name, short options bundled (`-vf PATH`, `-Z9`), a
 * value taken from the next argument whatever it looks like, `--` ending the options. Returns
 * the first problem, or undefined when every argument is an option the backup leaves to the
 * user. An abbreviation that could mean one of the backup's options is refused even when some
 * version would read it otherwise (`--fil` is `--file` before PostgreSQL 17, ambiguous after).
 */
export function findPgDumpArgsProblem(args: readonly string[]): PgDumpArgsProblem | undefined {
  return readOptions(args).problem;
}

/**
 * Whether `args` (extra pg_dump arguments without a problem) set any of the options named
 * `longs`, in any spelling pg_dump accepts (`--data-only`, `--data`, `-a`, `-av`). The arguments
 * are read once.
 */
export function setsOption(args: readonly string[], ...longs: string[]): boolean {
  const wanted = new Set(
    longs.map((long) => {
      const spec = PG_DUMP_OPTIONS.find((s) => s.long === long);
      if (!spec) throw new Error(`pg_dump has no option --${long}`);
      return canonical(spec);
    }),
  );
  return readOptions(args).options.some((spec) => wanted.has(canonical(spec)));
}

/** The options `args` set, up to the first problem (see {@link findPgDumpArgsProblem}). */
function readOptions(args: readonly string[]): {
  options: OptionSpec[];
  problem?: PgDumpArgsProblem;
} {
  const options: OptionSpec[] = [];
  const problem = (
    p: PgDumpArgsProblem,
  ): { options: OptionSpec[]; problem: PgDumpArgsProblem } => ({
    options,
    problem: p,
  });
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--')
      return args[i + 1] === undefined
        ? { options }
        : problem({ kind: 'positional', arg: args[i + 1] });
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const candidates = longCandidates(name);
      if (!candidates.length) return problem({ kind: 'unknown', arg });
      const owned = candidates.find((c) => c.owned);
      if (owned)
        return problem({
          kind: 'owned',
          arg,
          option: `--${owned.long}`,
          ownedBy: owned.owned as OwnedBy,
        });
      // getopt_long: several matches are ambiguous unless they are one option's aliases.
      if (new Set(candidates.map(canonical)).size > 1)
        return problem({
          kind: 'ambiguous',
          arg,
          candidates: candidates.map((c) => `--${c.long}`),
        });
      const spec = candidates[0];
      if (!spec.value && eq >= 0)
        return problem({ kind: 'unexpected-value', arg, option: `--${spec.long}` });
      if (spec.value && eq < 0) {
        if (i + 1 >= args.length)
          return problem({ kind: 'missing-value', arg, option: `--${spec.long}` });
        i++;
      }
      options.push(spec);
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      for (let j = 1; j < arg.length; j++) {
        const spec = PG_DUMP_OPTIONS.find((s) => s.short === arg[j]);
        if (!spec) return problem({ kind: 'unknown', arg });
        if (spec.owned)
          return problem({ kind: 'owned', arg, option: `--${spec.long}`, ownedBy: spec.owned });
        options.push(spec);
        if (!spec.value) continue;
        if (j + 1 === arg.length) {
          if (i + 1 >= args.length)
            return problem({ kind: 'missing-value', arg, option: `--${spec.long}` });
          i++;
        }
        break; // the rest of the bundle is the value
      }
      continue;
    }
    return problem({ kind: 'positional', arg });
  }
  return { options };
}

/** Long names that are aliases of another option (`--no-acl` is `-x`, `--no-privileges`). */
const ALIASES: Record<string, string> = {
  'large-objects': 'b',
  'no-large-objects': 'B',
  'no-acl': 'x',
  'attribute-inserts': 'column-inserts',
};

/** One name per option, whatever alias names it. */
function canonical(s: OptionSpec): string {
  return s.short ?? ALIASES[s.long] ?? s.long;
}

/**
 * What of the database a dump with `args` may leave out: whole tables when any option is given
 * (`-n`, `-t`, `-T`, … select or exclude them), table data with `--schema-only`, `--no-data`,
 * `--statistics-only` or `--exclude-table-data[-and-children]`.
 */
export function dumpScope(args: readonly string[]): { partial: boolean; dataLeftOut: boolean } {
  return {
    partial: args.length > 0,
    dataLeftOut: setsOption(
      args,
      'schema-only',
      'no-data',
      'statistics-only',
      'exclude-table-data',
      'exclude-table-data-and-children',
    ),
  };
}

/**
 * Options that make a dump hold only part of the database: selecting or excluding schemas,
 * tables, extensions, large objects, sections, or leaving data or definitions out.
 */
const SELECTING_OPTIONS = [
  'schema',
  'exclude-schema',
  'table',
  'exclude-table',
  'table-and-children',
  'exclude-table-and-children',
  'exclude-table-data',
  'exclude-table-data-and-children',
  'extension',
  'exclude-extension',
  'filter',
  'schema-only',
  'data-only',
  'no-data',
  'no-schema',
  'statistics-only',
  'section',
  'no-blobs',
  'no-large-objects',
  'no-unlogged-table-data',
];

/**
 * Whether a dump with `args` may hold only part of the database (see {@link SELECTING_OPTIONS}).
 * Such a backup is not what `latest` should restore over a database: it would replace what it
 * holds and leave the rest, or recreate tables without their rows.
 */
export function selectsPart(args: readonly string[]): boolean {
  return setsOption(args, ...SELECTING_OPTIONS);
}
