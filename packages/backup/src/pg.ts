import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { ActionFailure } from '../../kit/src/errors';
import { chooseClient, serverMajor, type PgClient } from './clients';
import { clientEnv, type PgConnection } from './connection';
import { runProgram, stderrSummary, TailBuffer } from './process';

/** What the server told about itself. */
export interface ServerInfo {
  versionNum: number;
  version: string;
  major: number;
  /** `pg_database_size` of the database, in bytes. */
  databaseBytes: number;
  /**
   * Which database this is, whatever host name, port or user reached it: the server's start time
   * and the database's OID. Equal identities are one database.
   */
  identity: string;
}

/** Path of a client program in a client's directory. */
export function program(client: PgClient, name: 'pg_dump' | 'pg_restore' | 'psql'): string {
  return join(client.bindir, process.platform === 'win32' ? `${name}.exe` : name);
}

const PSQL_FLAGS = ['-X', '-q', '-A', '-t', '-w', '-v', 'ON_ERROR_STOP=1'];

/** A readable failure for a client that could not connect or failed, naming the database. */
export function clientFailure(what: string, conn: PgConnection, stderr: string): ActionFailure {
  const detail = stderrSummary(stderr) || 'no message';
  return new ActionFailure(`${what} for ${conn.display} failed: ${detail}`);
}

/**
 * Connects with the newest installed psql and asks the server its version and the database's
 * size. Fails readably on a wrong password, an unreachable host or a missing database.
 */
export async function serverInfo(
  conn: PgConnection,
  clients: readonly PgClient[],
  signal?: AbortSignal,
): Promise<ServerInfo> {
  if (!clients.length) {
    throw new ActionFailure(
      'No PostgreSQL client programs (psql, pg_dump) were found. Install them, e.g. `sudo apt-get install -y postgresql-client`.',
    );
  }
  const r = await runProgram(
    program(clients[0], 'psql'),
    [
      ...PSQL_FLAGS,
      '-d',
      conn.url,
      '-c',
      "SELECT current_setting('server_version_num'), current_setting('server_version'), pg_database_size(current_database()), pg_postmaster_start_time(), (SELECT oid FROM pg_database WHERE datname = current_database())",
    ],
    { env: clientEnv(conn), signal },
  );
  if (r.code !== 0) throw clientFailure('Connecting to PostgreSQL', conn, r.stderr);
  const [num, version, size, startedAt, oid] = r.stdout.trim().split('|');
  const versionNum = Number(num);
  return {
    versionNum,
    version,
    major: serverMajor(versionNum),
    databaseBytes: Number(size) || 0,
    identity: `${startedAt}/${oid}`,
  };
}

/** Picks the client matching the server, turning "too old" into a readable failure. */
export function clientFor(
  clients: readonly PgClient[],
  server: ServerInfo,
  what = 'pg_dump',
): PgClient {
  try {
    return chooseClient(clients, server.major, what);
  } catch (error) {
    throw new ActionFailure((error as Error).message);
  }
}

/**
 * SQL giving `"schema.table"|rows` for every ordinary and partitioned table outside the system
 * schemas: the name as a JSON string, so a name holding a line break stays on its line.
 */
export const TABLE_COUNTS_SQL = `SELECT to_json(n.nspname || '.' || c.relname),
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY n.nspname, c.relname`;

/** Parses psql's `"name"|count` lines (the name a JSON string). */
export function parseCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const at = line.lastIndexOf('|');
    counts.set(JSON.parse(line.slice(0, at)) as string, Number(line.slice(at + 1)));
  }
  return counts;
}

/** Row counts per table of a database. */
export async function tableCounts(
  conn: PgConnection,
  client: PgClient,
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const r = await runProgram(
    program(client, 'psql'),
    [...PSQL_FLAGS, '-d', conn.url, '-c', TABLE_COUNTS_SQL],
    {
      env: clientEnv(conn),
      signal,
    },
  );
  if (r.code !== 0) throw clientFailure('Counting rows', conn, r.stderr);
  return parseCounts(r.stdout);
}

/**
 * SQL that empties a database: drops every schema but the system ones (`pg_*`,
 * `information_schema`) and `public` with all they hold, every table, view and sequence in
 * `public` (not the schema itself: its owner may be another role, as on RDS before PostgreSQL
 * 15, and a restore expects it), and unlinks every large object. A restore then finds no table
 * it did not create.
 */
export const EMPTY_DATABASE_SQL = `DO $$
DECLARE
  s name;
  r record;
BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
    WHERE nspname NOT IN ('information_schema', 'public') AND nspname NOT LIKE 'pg\\_%'
  LOOP
    EXECUTE format('DROP SCHEMA %I CASCADE', s);
  END LOOP;
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refobjid <> c.oid AND d.deptype IN ('e', 'i'))
  LOOP
    EXECUTE format('DROP %s IF EXISTS public.%I CASCADE', CASE r.relkind
      WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
      WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.relname);
  END LOOP;
  PERFORM lo_unlink(oid) FROM pg_largeobject_metadata;
END $$;`;

/**
 * Empties `conn`'s database in one transaction ({@link EMPTY_DATABASE_SQL}), so that a restore
 * into it holds the backup and nothing older. Fails readably (e.g. when the user does not own a
 * schema), leaving the database as it was.
 */
export async function emptyDatabase(
  conn: PgConnection,
  client: PgClient,
  signal?: AbortSignal,
): Promise<void> {
  const r = await runProgram(
    program(client, 'psql'),
    [...PSQL_FLAGS, '--single-transaction', '-d', conn.url, '-c', EMPTY_DATABASE_SQL],
    { env: clientEnv(conn), signal },
  );
  if (r.code !== 0) throw clientFailure('Emptying the database', conn, r.stderr);
}

/**
 * A psql session held open in one transaction, so that pg_dump can share its snapshot
 * (`--snapshot`) and rows can be counted in exactly the state that was dumped.
 */
export class SnapshotSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly stderr = new TailBuffer();
  private buffer = '';
  private waiter?: { marker: string; resolve: (text: string) => void; reject: (e: Error) => void };
  private closed = false;
  private seq = 0;

  private constructor(
    client: PgClient,
    private readonly conn: PgConnection,
  ) {
    this.child = spawn(program(client, 'psql'), [...PSQL_FLAGS, '-d', conn.url], {
      env: clientEnv(conn),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      this.deliver();
    });
    this.child.stderr.on('data', (d: Buffer) => this.stderr.push(d));
    this.child.stdin.on('error', () => undefined);
    this.child.on('close', () => {
      this.closed = true;
      this.waiter?.reject(clientFailure('The snapshot session', this.conn, this.stderr.toString()));
      this.waiter = undefined;
    });
  }

  /** Opens the session and exports a snapshot; returns the session and the snapshot name. */
  static async open(
    client: PgClient,
    conn: PgConnection,
  ): Promise<{ session: SnapshotSession; snapshot: string }> {
    const session = new SnapshotSession(client, conn);
    const out = await session.query(
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT pg_export_snapshot();',
    );
    return { session, snapshot: out.trim().split('\n').pop() ?? '' };
  }

  private deliver(): void {
    if (!this.waiter) return;
    const at = this.buffer.indexOf(`${this.waiter.marker}\n`);
    if (at < 0) return;
    const text = this.buffer.slice(0, at);
    this.buffer = this.buffer.slice(at + this.waiter.marker.length + 1);
    const { resolve } = this.waiter;
    this.waiter = undefined;
    resolve(text);
  }

  /** Runs SQL in the session's transaction and returns its output. */
  query(sql: string): Promise<string> {
    if (this.closed)
      return Promise.reject(
        clientFailure('The snapshot session', this.conn, this.stderr.toString()),
      );
    const marker = `__shipkit_done_${++this.seq}__`;
    return new Promise((resolve, reject) => {
      this.waiter = { marker, resolve, reject };
      this.child.stdin.write(`${sql}\n\\echo ${marker}\n`);
      this.deliver();
    });
  }

  /** Row counts per table, as of the snapshot. */
  async counts(): Promise<Map<string, number>> {
    return parseCounts(await this.query(`${TABLE_COUNTS_SQL};`));
  }

  /** Ends the transaction and the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    const done = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin.end('ROLLBACK;\n\\q\n');
    const timer = setTimeout(() => this.child.kill('SIGTERM'), 5000);
    await done;
    clearTimeout(timer);
  }
}
