import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPgClients } from '../../../packages/backup/src/clients';

describe('findPgClients', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shipkit-clients-'));
    const script = (path: string, version: string): void => {
      writeFileSync(path, `#!/bin/sh\necho "pg_dump (PostgreSQL) ${version}"\n`);
      chmodSync(path, 0o755);
    };
    mkdirSync(join(dir, 'direct'));
    script(join(dir, 'direct', 'pg_dump'), '98.2');
    // Debian's /usr/bin/pg_dump is a symlink to a wrapper script named pg_wrapper.
    mkdirSync(join(dir, 'common'));
    mkdirSync(join(dir, 'wrapped'));
    script(join(dir, 'common', 'pg_wrapper'), '99.1');
    symlinkSync(join(dir, 'common', 'pg_wrapper'), join(dir, 'wrapped', 'pg_dump'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds pg_dump on PATH and reads its version', async () => {
    const clients = await findPgClients({ PATH: `${join(dir, 'direct')}:/usr/bin:/bin` });
    expect(clients).toContainEqual({ bindir: join(dir, 'direct'), major: 98, version: '98.2' });
  });

  it('does not ask a Debian pg_wrapper when a real pg_dump was found', async () => {
    const clients = await findPgClients({
      PATH: `${join(dir, 'wrapped')}:${join(dir, 'direct')}:/usr/bin:/bin`,
    });
    expect(clients.map((c) => c.major)).toContain(98);
    expect(clients.map((c) => c.major)).not.toContain(99);
  });
});
