import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** One installed set of PostgreSQL client programs (pg_dump, pg_restore, psql). */
export interface PgClient {
  bindir: string;
  major: number;
  /** Full version text, e.g. `15.18`. */
  version: string;
}

/** Directories where PostgreSQL clients live on common systems, newest layouts first. */
function candidateDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs: string[] = [];
  const globbed = (root: string, pattern: RegExp, sub: string): void => {
    if (!existsSync(root)) return;
    for (const name of readdirSync(root)) if (pattern.test(name)) dirs.push(join(root, name, sub));
  };
  globbed('/usr/lib/postgresql', /^\d+(\.\d+)?$/, 'bin'); // Debian, Ubuntu (GitHub runners)
  globbed('/usr', /^pgsql-\d+$/, 'bin'); // RHEL and derivatives
  globbed('/opt/homebrew/opt', /^(postgresql|libpq)(@\d+)?$/, 'bin'); // Homebrew (Apple silicon)
  globbed('/usr/local/opt', /^(postgresql|libpq)(@\d+)?$/, 'bin'); // Homebrew (Intel)
  globbed('C:\\Program Files\\PostgreSQL', /^\d+$/, 'bin'); // Windows installer
  const config = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8', env });
  if (config.status === 0 && config.stdout.trim()) dirs.push(config.stdout.trim());
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir) dirs.push(dir);
  return dirs;
}

/** Parses `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → `{ major: 15, version: '15.18' }`. */
export function parseClientVersion(text: string): { major: number; version: string } | undefined {
  const m =
    /\(PostgreSQL\)\s+(\d+)(\.\d+)?/.exec(text) ?? /PostgreSQL\)?\s+(\d+)(\.\d+)?/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  // Before 10 the major version had two parts (9.6); those are long unsupported.
  return { major, version: `${m[1]}${m[2] ?? ''}` };
}

/**
 * Every installed PostgreSQL client found on this machine (one per major version; a versioned
 * directory wins over a wrapper on PATH), sorted by major version, newest first.
 */
export function findPgClients(env: NodeJS.ProcessEnv = process.env): PgClient[] {
  const byMajor = new Map<number, PgClient>();
  const seen = new Set<string>();
  for (const dir of candidateDirs(env)) {
    const exe = join(dir, process.platform === 'win32' ? 'pg_dump.exe' : 'pg_dump');
    if (!existsSync(exe)) continue;
    let real: string;
    try {
      real = realpathSync(exe);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const out = spawnSync(exe, ['--version'], { encoding: 'utf8', env, timeout: 10_000 });
    const parsed = out.status === 0 ? parseClientVersion(out.stdout) : undefined;
    if (!parsed || byMajor.has(parsed.major)) continue;
    byMajor.set(parsed.major, { bindir: dir, ...parsed });
  }
  return [...byMajor.values()].sort((a, b) => b.major - a.major);
}

/** The major version from `server_version_num` (`150004` → 15; `90624` → 9). */
export function serverMajor(versionNum: number): number {
  return Math.floor(versionNum / 10000);
}

/**
 * Picks the client for a server: the same major version when installed, else the oldest newer
 * one (a newer pg_dump reads older servers). Throws a readable Error when every installed
 * client is older than the server, or none is installed.
 */
export function chooseClient(
  clients: readonly PgClient[],
  major: number,
  program = 'pg_dump',
): PgClient {
  if (!clients.length) {
    throw new Error(
      `No PostgreSQL client programs (${program}) were found. Install the client matching the server (PostgreSQL ${major}), e.g. \`sudo apt-get install -y postgresql-client-${major}\`.`,
    );
  }
  const exact = clients.find((c) => c.major === major);
  if (exact) return exact;
  const newer = clients.filter((c) => c.major > major).sort((a, b) => a.major - b.major);
  if (newer.length) return newer[0];
  const newest = clients[0];
  throw new Error(
    `${program} ${newest.version} is older than the server (PostgreSQL ${major}) and cannot read it. Install the client matching the server, e.g. \`sudo apt-get install -y postgresql-client-${major}\` (PGDG apt repository). Installed: ${clients.map((c) => c.version).join(', ')}.`,
  );
}
