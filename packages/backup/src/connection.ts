/** A PostgreSQL connection split so the password never reaches a command line. */
export interface PgConnection {
  /** `postgresql://user@host:port/db?…` without any password: safe for argv. */
  url: string;
  /** The password, for `PGPASSWORD` in the child's environment only. */
  password?: string;
  database: string;
  user?: string;
  host: string;
  port: number;
  /** `user@host:port/db`, for logs. */
  display: string;
}

const PASSWORD_PARAMS = ['password', 'passfile'];

/** Percent-decodes a part of the URL; a `%` not followed by two hex digits says how to fix it. */
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error(
      'has a `%` not followed by two hex digits: percent-encode the special characters of the user, password and database name (`%` is `%25`, `@` is `%40`, `/` is `%2F`)',
    );
  }
}

/**
 * Parses a `postgres://` or `postgresql://` URL. The password (from the userinfo or a
 * `password` parameter) is taken out of the URL and returned apart. Throws an Error whose
 * message never contains the password or the URL (the caller names the input).
 */
export function parseDatabaseUrl(text: string): PgConnection {
  let parsed: URL;
  try {
    parsed = new URL(text.trim());
  } catch {
    throw new Error(
      'is not a URL of the form postgresql://user:password@host:5432/database (percent-encode `/`, `?`, `#`, `@` and `%` in the user, password and database name: `%2F`, `%3F`, `%23`, `%40`, `%25`)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`must start with postgresql:// (or postgres://); got ${parsed.protocol}//`);
  }
  let password = parsed.password ? decode(parsed.password) : undefined;
  for (const name of PASSWORD_PARAMS) {
    const value = parsed.searchParams.get(name);
    if (value !== null) {
      if (name === 'password') password = value;
      parsed.searchParams.delete(name);
    }
  }
  parsed.password = '';
  const database = decode(parsed.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) {
    throw new Error(
      'must name the database in its path: postgresql://user:password@host:5432/database',
    );
  }
  const host = decode(parsed.hostname.replace(/^\[|\]$/g, ''));
  if (!host) throw new Error('must name a host: postgresql://user:password@host:5432/database');
  const port = parsed.port ? Number(parsed.port) : 5432;
  const user = parsed.username ? decode(parsed.username) : undefined;
  const url = parsed.toString().replace(/^postgres:/, 'postgresql:');
  return {
    url,
    password,
    database,
    user,
    host,
    port,
    display: `${user ? `${user}@` : ''}${host}:${port}/${database}`,
  };
}

/** The environment a PostgreSQL client gets: the caller's plus `PGPASSWORD` (never argv). */
export function clientEnv(
  conn: PgConnection,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, PGCONNECT_TIMEOUT: base.PGCONNECT_TIMEOUT ?? '15' };
  delete env.PGPASSWORD;
  if (conn.password !== undefined) env.PGPASSWORD = conn.password;
  return env;
}

/**
 * Splits `pg-dump-args` like a shell would (quotes and backslashes; no expansion).
 * Throws on an unterminated quote.
 */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let inToken = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inToken = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      inToken = true;
    } else if (/\s/.test(ch)) {
      if (inToken) out.push(current);
      current = '';
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (quote) throw new Error(`has an unterminated ${quote} quote`);
  if (inToken) out.push(current);
  return out;
}
