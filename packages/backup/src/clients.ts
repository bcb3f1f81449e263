import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';

/** One installed set of PostgreSQL client programs (pg_dump, pg_restore, psql). */
export interface PgClient {
  bindir: string;
  major: number;
  /** Full version text, e.g. `15.18`. */
  version: string;
}

/** Runs a program briefly; its stdout, or undefined when it is missing or fails. */
function output(exe: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) =>
    execFile(exe, args, { encoding: 'utf8', env, timeout: 10_000 }, (error, stdout) =>
      resolve(error ? undefined : stdout),
    ),
  );
}

/** Directories where PostgreSQL clients are installed on common systems, newest layouts first. */
function installDirs(): string[] {
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

interface Candidate {
  dir: string;
  exe: string;
  /** Debian's pg_wrapper (what /usr/bin/pg_dump is there): it forwards to a versioned dir. */
  wrapper: boolean;
  /** `pg_dump --version`, started as soon as the candidate is known (not for wrappers). */
  version?: Promise<string | undefined>;
}

/**
 * Every installed PostgreSQL client found on this machine (one per major version; an install
 * directory wins over PATH), sorted by major version, newest first. Every `--version` and
 * `pg_config` start at once, before this returns its promise; a Debian `pg_wrapper` is asked
 * only when nothing else was found.
 */
export async function findPgClients(env: NodeJS.ProcessEnv = process.env): Promise<PgClient[]> {
  const seen = new Set<string>();
  const candidates = (dirs: string[]): Candidate[] => {
    const out: Candidate[] = [];
    for (const dir of dirs) {
      const exe = join(dir, process.platform === 'win32' ? 'pg_dump.exe' : 'pg_dump');
      let real: string;
      try {
        if (!existsSync(exe)) continue;
        real = realpathSync(exe);
      } catch {
        continue;
      }
      if (seen.has(real)) continue;
      seen.add(real);
      const wrapper = basename(real) === 'pg_wrapper';
      out.push({
        dir,
        exe,
        wrapper,
        version: wrapper ? undefined : output(exe, ['--version'], env),
      });
    }
    return out;
  };
  const config = output('pg_config', ['--bindir'], env);
  const installed = candidates(installDirs());
  const onPath = candidates((env.PATH ?? '').split(delimiter).filter(Boolean));
  const configDir = (await config)?.trim();
  const all = [...installed, ...(configDir ? candidates([configDir]) : []), ...onPath];
  const pick = async (list: Candidate[]): Promise<PgClient[]> => {
    const versions = await Promise.all(
      list.map((c) => c.version ?? output(c.exe, ['--version'], env)),
    );
    const byMajor = new Map<number, PgClient>();
    list.forEach((c, i) => {
      const parsed = versions[i] === undefined ? undefined : parseClientVersion(versions[i]);
      if (parsed && !byMajor.has(parsed.major))
        byMajor.set(parsed.major, { bindir: c.dir, ...parsed });
    });
    return [...byMajor.values()].sort((a, b) => b.major - a.major);
  };
  const direct = await pick(all.filter((c) => !c.wrapper));
  return direct.length ? direct : pick(all.filter((c) => c.wrapper));
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
