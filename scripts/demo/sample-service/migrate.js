'use strict';
// The sample service's database migrations, run once per release before the service moves to
// it: `node /app/migrate.js` in the release's own image, with DATABASE_URL set. Each migration
// runs once, in a transaction of its own, and is recorded in `schema_migrations`; a second run
// says they are all there. No dependencies: it speaks PostgreSQL's wire protocol itself
// (SCRAM-SHA-256, MD5 or password authentication, simple queries), so the image carries this
// one file.
const crypto = require('node:crypto');
const net = require('node:net');

/** The migrations, in order: a name and the SQL it runs. */
const MIGRATIONS = [
  [
    '0001_create_invoices',
    `CREATE TABLE invoices (
       id serial PRIMARY KEY,
       order_id int NOT NULL REFERENCES orders (id),
       amount_cents int NOT NULL CHECK (amount_cents >= 0),
       issued_at timestamptz NOT NULL DEFAULT now()
     )`,
  ],
];

const log = (line) => console.log(`migrate: ${line}`);

/** One PostgreSQL connection: messages in, messages out. */
class Connection {
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.waiting = [];
    this.closed = undefined;
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
    const fail = (error) => {
      this.closed = error;
      for (const w of this.waiting.splice(0)) w.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
  }

  deliver() {
    while (this.waiting.length && this.buffer.length >= 5) {
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < length + 1) return;
      const message = {
        type: String.fromCharCode(this.buffer[0]),
        body: this.buffer.subarray(5, length + 1),
      };
      this.buffer = this.buffer.subarray(length + 1);
      this.waiting.shift().resolve(message);
    }
  }

  /** The next message from the server. */
  next() {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.deliver();
    });
  }

  /** Sends a message: a type byte (none for the startup message) and its body. */
  send(type, body) {
    const head = Buffer.alloc(type ? 5 : 4);
    if (type) head.write(type, 0, 'latin1');
    head.writeInt32BE(body.length + 4, type ? 1 : 0);
    this.socket.write(Buffer.concat([head, body]));
  }
}

const cstring = (s) => Buffer.from(`${s}\0`, 'utf8');

/** The fields of an ErrorResponse as one line: `ERROR 42P07: relation "invoices" already exists`. */
function errorText(body) {
  const fields = {};
  for (let at = 0; at < body.length && body[at] !== 0;) {
    const end = body.indexOf(0, at + 1);
    fields[String.fromCharCode(body[at])] = body.toString('utf8', at + 1, end);
    at = end + 1;
  }
  return `${fields.S ?? 'ERROR'} ${fields.C ?? ''}: ${fields.M ?? 'unknown error'}`;
}

const hmac = (key, text) => crypto.createHmac('sha256', key).update(text).digest();

/** Logs in with whatever the server asks for: nothing, a password, MD5 or SCRAM-SHA-256. */
async function authenticate(conn, user, password) {
  let scram;
  for (;;) {
    const { type, body } = await conn.next();
    if (type === 'E') throw new Error(errorText(body));
    if (type !== 'R') throw new Error(`unexpected message ${type} while logging in`);
    const code = body.readInt32BE(0);
    if (code === 0) return;
    if (code === 3) conn.send('p', cstring(password));
    else if (code === 5) {
      const inner = crypto
        .createHash('md5')
        .update(password + user)
        .digest('hex');
      const outer = crypto
        .createHash('md5')
        .update(Buffer.concat([Buffer.from(inner), body.subarray(4, 8)]))
        .digest('hex');
      conn.send('p', cstring(`md5${outer}`));
    } else if (code === 10) {
      const mechanisms = body.toString('utf8', 4).split('\0');
      if (!mechanisms.includes('SCRAM-SHA-256'))
        throw new Error(`the server offers ${mechanisms.join(', ')}, not SCRAM-SHA-256`);
      const nonce = crypto.randomBytes(18).toString('base64');
      scram = { first: `n=,r=${nonce}`, nonce };
      const data = Buffer.from(`n,,${scram.first}`);
      const length = Buffer.alloc(4);
      length.writeInt32BE(data.length);
      conn.send('p', Buffer.concat([cstring('SCRAM-SHA-256'), length, data]));
    } else if (code === 11) {
      const serverFirst = body.toString('utf8', 4);
      const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
      if (!attrs.r?.startsWith(scram.nonce)) throw new Error('the server changed the SCRAM nonce');
      const salted = crypto.pbkdf2Sync(
        password,
        Buffer.from(attrs.s, 'base64'),
        Number(attrs.i),
        32,
        'sha256',
      );
      const clientKey = hmac(salted, 'Client Key');
      const storedKey = crypto.createHash('sha256').update(clientKey).digest();
      const withoutProof = `c=biws,r=${attrs.r}`;
      scram.auth = `${scram.first},${serverFirst},${withoutProof}`;
      scram.salted = salted;
      const signature = hmac(storedKey, scram.auth);
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
      conn.send('p', Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
    } else if (code === 12) {
      const expected = hmac(hmac(scram.salted, 'Server Key'), scram.auth).toString('base64');
      if (body.toString('utf8', 4) !== `v=${expected}`)
        throw new Error('the server did not prove it knows the password (SCRAM)');
    } else throw new Error(`unsupported authentication method ${code}`);
  }
}

/** Waits for ReadyForQuery, failing on an ErrorResponse. */
async function ready(conn) {
  let error;
  for (;;) {
    const { type, body } = await conn.next();
    if (type === 'E') error = new Error(errorText(body));
    if (type === 'Z') {
      if (error) throw error;
      return;
    }
  }
}

/** Runs SQL (one or more statements, one implicit transaction); returns the rows as text. */
async function query(conn, sql) {
  conn.send('Q', cstring(sql));
  const rows = [];
  let error;
  for (;;) {
    const { type, body } = await conn.next();
    if (type === 'E') error = new Error(errorText(body));
    else if (type === 'D') {
      const row = [];
      for (let at = 2, n = body.readInt16BE(0); n > 0; n--) {
        const length = body.readInt32BE(at);
        at += 4;
        row.push(length < 0 ? null : body.toString('utf8', at, at + length));
        at += Math.max(length, 0);
      }
      rows.push(row);
    } else if (type === 'Z') {
      if (error) throw error;
      return rows;
    }
  }
}

async function main() {
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const url = new URL(process.env.DATABASE_URL);
  const user = decodeURIComponent(url.username);
  const database = decodeURIComponent(url.pathname.slice(1)) || user;
  const host = url.hostname;
  const port = Number(url.port || 5432);
  log(`connecting to ${host}:${port}/${database} as ${user}`);
  const socket = net.connect({ host, port });
  socket.setTimeout(15000, () => socket.destroy(new Error('no answer from the database in 15 s')));
  const conn = new Connection(socket);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const version = Buffer.alloc(4);
  version.writeInt32BE(196608);
  conn.send(
    '',
    Buffer.concat([
      version,
      cstring('user'),
      cstring(user),
      cstring('database'),
      cstring(database),
      cstring(''),
    ]),
  );
  await authenticate(conn, user, decodeURIComponent(url.password));
  await ready(conn);
  await query(
    conn,
    'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied = new Set(
    (await query(conn, 'SELECT name FROM schema_migrations')).map((r) => r[0]),
  );
  let count = 0;
  for (const [name, sql] of MIGRATIONS) {
    if (applied.has(name)) {
      log(`${name}: already applied`);
      continue;
    }
    log(`applying ${name}`);
    const started = process.hrtime.bigint();
    await query(conn, `${sql}; INSERT INTO schema_migrations (name) VALUES ('${name}')`);
    log(`applied ${name} in ${Number((process.hrtime.bigint() - started) / 1000000n)} ms`);
    count++;
  }
  conn.send('X', Buffer.alloc(0));
  socket.end();
  log(`done: ${count} applied, ${MIGRATIONS.length - count} already there`);
}

main().catch((error) => {
  console.error(`migrate: failed: ${error.message}`);
  process.exit(1);
});
