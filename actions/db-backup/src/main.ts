import * as core from '../../../packages/kit/src/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionFailure } from '../../../packages/kit/src/errors';
import { formatDuration } from '../../../packages/kit/src/duration';
import { failureMessage, runAction } from '../../../packages/kit/src/run';
import { SummaryBuilder, type Verdict } from '../../../packages/kit/src/summary';
import { logSafe, markdownSafe } from '../../../packages/kit/src/log-text';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RetentionDecision } from '../../../packages/backup/src/retention';
import type { CountRow } from '../../../packages/backup/src/verify';
import { getInputs, type Inputs } from './inputs';
import { findPgClients } from '../../../packages/backup/src/clients';

/** Clients the action uses; tests of the action may pass their own. */
export interface Deps {
  s3?: S3Client;
  now?: () => Date;
}

/** What one run found, for the outputs and the summary. */
interface Report {
  verdict: Verdict;
  headline: string;
  facts: [string, unknown][];
  retention?: RetentionDecision[];
  counts?: CountRow[];
  notes: string[];
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]} (${n} bytes)`;
}

async function s3Client(inputs: Inputs, deps: Deps): Promise<S3Client> {
  if (deps.s3) return deps.s3;
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { awsClientConfig, resolveRegion, withErrorContext } =
    await import('../../../packages/kit/src/aws');
  return withErrorContext(
    new S3Client({
      ...awsClientConfig(resolveRegion(inputs.region)),
      forcePathStyle: inputs.forcePathStyle,
    }),
    'S3',
  );
}

/** Logs a line that may hold text from outside (server messages, names): kept to one line. */
function say(line: string): void {
  core.info(logSafe(line));
}

function workDir(): string {
  return mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'shipkit-db-backup-'));
}

async function applyRetention(
  inputs: Inputs,
  s3: S3Client,
  folder: string,
  key: string,
  now: Date,
  report: Report,
): Promise<void> {
  const { applyObjectRetention } = await import('../../../packages/backup/src/object-retention');
  await core.group('Retention', async () => {
    const result = await applyObjectRetention({
      s3,
      bucket: inputs.bucket as string,
      folder,
      now,
      keepDays: inputs.keepDays,
      keepLast: inputs.keepLast,
      protect: key,
      dryRun: inputs.dryRun,
      onDecision: (d, done) => {
        const verb = d.action === 'keep' ? 'kept' : done ? 'deleted' : 'would delete';
        core.info(`${verb} ${logSafe(d.id)}: ${d.reason}`);
      },
    });
    report.retention = result.decisions;
    if (result.leftovers.length) {
      const list = result.leftovers.map((k) => logSafe(k)).join(', ');
      core.warning(
        `${result.leftovers.length} object(s) under s3://${inputs.bucket}/${logSafe(folder)} have no checksum and cannot be restored (an interrupted upload, or written by another tool); they do not count toward keep-last and are deleted once older than keep-days: ${list}`,
      );
      report.notes.push(
        `${result.leftovers.length} object(s) without a checksum (cannot be restored) are not counted toward keep-last: ${result.leftovers.map((k) => `\`${markdownSafe(k)}\``).join(', ')}.`,
      );
    }
    const decisions = result.decisions;
    const wouldDelete = decisions.filter((d) => d.action === 'delete').length;
    core.setOutput('deleted', String(result.deleted.length));
    report.facts.push([
      'Retention',
      `${decisions.length} object(s) under s3://${inputs.bucket}/${folder}: ${inputs.dryRun ? `${wouldDelete} would be deleted (dry run)` : `${result.deleted.length} deleted`}, ${decisions.length - wouldDelete} kept (keep-days ${inputs.keepDays}, keep-last ${inputs.keepLast}, counting only backups with a checksum)`,
    ]);
  });
}

/**
 * Connects to the database to dump: the server's version and size, and the matching clients.
 * It logs nothing, so it can start before the log group it belongs to.
 */
async function checkDatabase(inputs: Inputs, signal: AbortSignal) {
  // Statically imported and called first: its programs start before anything is awaited.
  const found = findPgClients();
  const pg = await import('../../../packages/backup/src/pg');
  const clients = await found;
  const db = inputs.database as NonNullable<Inputs['database']>;
  const server = await pg.serverInfo(db, clients, signal);
  const client = pg.clientFor(clients, server);
  let verifyClient: typeof client | undefined;
  if (inputs.verify === 'restore' && inputs.verifyDatabase) {
    const vServer = await pg.serverInfo(inputs.verifyDatabase, clients, signal);
    verifyClient = pg.clientFor(clients, vServer, 'pg_restore');
    if (verifyClient.major < client.major) {
      throw new ActionFailure(
        `The verify database runs PostgreSQL ${vServer.version}, older than the dump's pg_dump ${client.version}: its pg_restore cannot read the archive. Use a verify server of version ${client.major} or newer.`,
      );
    }
    verifyClient = pg.clientFor(
      clients,
      { ...vServer, major: Math.max(vServer.major, client.major) },
      'pg_restore',
    );
  }
  return { db, server, client, clients, verifyClient };
}

/** The pg_dump source of this run. */
function dumpSource(
  inputs: Inputs,
  client: import('../../../packages/backup/src/clients').PgClient,
  expectedBytes?: number,
  snapshot?: string,
): import('../../../packages/backup/src/source').DumpSource {
  return {
    type: 'pg-dump',
    conn: inputs.database as NonNullable<Inputs['database']>,
    client,
    format: inputs.format,
    extraArgs: inputs.pgDumpArgs,
    snapshot,
    expectedBytes,
  };
}

async function backupMode(
  inputs: Inputs,
  deps: Deps,
  signal: AbortSignal,
  report: Report,
): Promise<void> {
  const started = Date.now();
  const now = deps.now?.() ?? new Date();
  const bucket = inputs.bucket as string;
  const database = inputs.mode === 'files' ? undefined : checkDatabase(inputs, signal);
  database?.catch(() => undefined); // awaited below; a failure is reported there
  const sources = await import('../../../packages/backup/src/source');
  // pg_dump only reads: it starts as soon as the database is checked, so its catalog work runs
  // while the S3 client loads and the bucket is checked; it is stopped if anything fails before
  // its output is streamed. (Not for a dry run, nor with verify: restore, which first opens the
  // snapshot pg_dump must read.)
  let early: import('../../../packages/backup/src/source').StartedSource | undefined;
  const checkedDb =
    inputs.mode === 'pg-dump' && !inputs.dryRun && inputs.verify !== 'restore'
      ? await database?.catch(() => undefined)
      : undefined;
  if (checkedDb) {
    early = sources.startBackupSource(
      dumpSource(inputs, checkedDb.client, checkedDb.server.databaseBytes),
      inputs.compressionLevel,
      say,
    );
  }
  const stopEarly = async (): Promise<void> => {
    if (early) await sources.stopBackupSource(early);
    early = undefined;
  };
  /** Hands the early pg_dump to the stream (once); the stream then owns it. */
  const takeEarly = (): typeof early => {
    const taken = early;
    early = undefined;
    return taken;
  };
  const kind = inputs.mode === 'files' ? 'files' : inputs.format;
  const dir = workDir();
  let session: import('../../../packages/backup/src/pg').SnapshotSession | undefined;
  try {
    const s3 = await s3Client(inputs, deps);
    const store = await import('../../../packages/backup/src/store');
    const { backupFolder, backupKey } = await import('../../../packages/backup/src/keys');
    const folder = backupFolder(inputs.prefix, inputs.name);
    // Phase 1: everything that can fail before a byte is written (the database check may have
    // finished above); a bucket problem is reported first.
    const checked = await core.group('Checking the bucket and the source', async () => {
      const target = (async () => {
        await store.checkBucket(s3, bucket);
        core.info(`Bucket ${bucket} is reachable.`);
        const keyOf = (attempt?: number): string =>
          backupKey({
            prefix: inputs.prefix,
            name: inputs.name,
            at: now,
            sha: inputs.sha,
            kind,
            attempt,
          });
        let attempt = 1;
        let key = keyOf();
        while (await store.headObject(s3, bucket, key)) key = keyOf(++attempt);
        return key;
      })();
      const [keyResult, sourceResult] = await Promise.allSettled([target, database]);
      if (keyResult.status === 'rejected') throw keyResult.reason;
      if (sourceResult.status === 'rejected') throw sourceResult.reason;
      const source = sourceResult.value;
      if (source) {
        const { db, server, client, clients } = source;
        core.debug(
          `PostgreSQL clients found: ${clients.map((c) => `${c.version} in ${c.bindir}`).join(', ')}`,
        );
        core.info(
          `Connected to ${logSafe(db.display)}: PostgreSQL ${logSafe(server.version)}, database size ${bytesText(server.databaseBytes)}; using pg_dump ${client.version} (${client.bindir}).`,
        );
        report.facts.push(
          ['Database', `${markdownSafe(db.display)} (PostgreSQL ${markdownSafe(server.version)})`],
          ['Client', `pg_dump ${client.version}`],
        );
      }
      return { key: keyResult.value, ...source };
    });
    const key = checked.key;
    const location = `s3://${bucket}/${key}`;
    core.setOutput('key', key);
    core.setOutput('location', location);
    report.facts.unshift(['Location', location]);
    if (inputs.dryRun) {
      core.info(`Dry run: would write ${location}.`);
      report.headline = `dry run: would write ${key}`;
      report.verdict = 'neutral';
      await applyRetention(inputs, s3, folder, key, now, report);
      return;
    }

    // Phase 2: stream the backup.
    const { streamBackup, cancelled } = await import('../../../packages/backup/src/backup');
    const metadata: Record<string, string> = {
      'shipkit-kind': kind,
      'shipkit-source': inputs.name,
      'shipkit-environment': inputs.environment,
      ...(inputs.sha ? { 'shipkit-commit': inputs.sha } : {}),
      ...(checked.client ? { 'shipkit-pg-dump': checked.client.version } : {}),
    };
    let snapshot: string | undefined;
    if (inputs.verify === 'restore' && checked.client) {
      const pg = await import('../../../packages/backup/src/pg');
      const opened = await pg.SnapshotSession.open(
        checked.client,
        inputs.database as NonNullable<Inputs['database']>,
      );
      session = opened.session;
      core.debug(
        `Dumping from exported snapshot ${opened.snapshot}; rows are counted in the same one.`,
      );
      snapshot = opened.snapshot;
    }
    const result = await core.group(
      `Streaming the ${kind === 'files' ? 'files' : 'dump'} to ${location}`,
      () =>
        streamBackup({
          s3,
          bucket,
          key,
          source:
            inputs.mode === 'files'
              ? {
                  type: 'files',
                  paths: inputs.paths,
                  cwd: process.env.GITHUB_WORKSPACE || process.cwd(),
                }
              : dumpSource(
                  inputs,
                  checked.client as NonNullable<typeof checked.client>,
                  checked.server?.databaseBytes,
                  snapshot,
                ),
          started: takeEarly(),
          compressionLevel: inputs.compressionLevel,
          metadata,
          sse: inputs.sse,
          kmsKeyId: inputs.kmsKeyId,
          storageClass: inputs.storageClass,
          signal,
          log: say,
          debug: (line) => core.debug(logSafe(line)),
        }),
    );
    core.info(
      `Uploaded ${bytesText(result.bytes)}${result.rawBytes !== result.bytes ? ` (${bytesText(result.rawBytes)} before compression)` : ''}, SHA-256 ${result.sha256}.`,
    );
    core.setOutput('bytes', String(result.bytes));
    core.setOutput('sha256', result.sha256);
    report.facts.push(['Size', bytesText(result.bytes)], ['SHA-256', `\`${result.sha256}\``]);

    // Phase 3: prove it.
    if (inputs.verify !== 'none') {
      const verify = await import('../../../packages/backup/src/verify');
      try {
        await core.group(`Verifying (${inputs.verify})`, async () => {
          const back = await verify.readBack({
            s3,
            bucket,
            key,
            expectedSha256: result.sha256,
            dir,
            signal,
          });
          core.info(`Read back ${back.bytes} bytes; SHA-256 matches.`);
          const listed = await verify.listArchive(kind, back.path, checked.client, signal);
          core.info(listed.description);
          let text = `read back, SHA-256 matches; ${listed.description}`;
          if (
            inputs.verify === 'restore' &&
            session &&
            checked.verifyClient &&
            inputs.verifyDatabase
          ) {
            const target = inputs.verifyDatabase;
            core.info(`Restoring into ${logSafe(target.display)}…`);
            await verify.restoreArchive({
              kind,
              path: back.path,
              client: checked.verifyClient,
              target,
              signal,
              log: say,
            });
            const pg = await import('../../../packages/backup/src/pg');
            const [source, restored] = [
              await session.counts(),
              await pg.tableCounts(target, checked.verifyClient, signal),
            ];
            const compared = verify.compareCounts(source, restored, inputs.pgDumpArgs.length > 0);
            report.counts = compared.rows;
            for (const r of compared.rows)
              core.info(
                `${r.ok ? '✓' : '✗'} ${logSafe(r.table)}: source ${r.source ?? '–'}, restored ${r.restored ?? '–'}`,
              );
            if (!compared.ok) {
              const bad = compared.rows
                .filter((r) => !r.ok)
                .map(
                  (r) =>
                    `${logSafe(r.table)} (source ${r.source ?? 'missing'}, restored ${r.restored ?? 'missing'})`,
                );
              throw new ActionFailure(
                `The restored copy differs from the source: ${bad.join(', ')}.`,
              );
            }
            text += `; restored into ${markdownSafe(target.display)}: row counts of ${compared.rows.length} tables match the dumped snapshot`;
          }
          report.facts.push(['Verified', text]);
        });
      } catch (error) {
        const { cleanupUpload } = store;
        const cleanup = await cleanupUpload(s3, bucket, key);
        core.setOutput('location', '');
        core.setOutput('key', '');
        const removed = `the backup was removed: ${markdownSafe(cleanup.notes.join('; ')) || 'nothing to remove'}`;
        if (signal.aborted) throw cancelled(signal, `Before it was verified, ${removed}.`);
        report.notes.push(`Verification failed, so ${removed}.`);
        throw error;
      }
    } else {
      report.facts.push(['Verified', 'no (`verify: none`)']);
    }
    if (session) {
      await session.close();
      session = undefined;
    }
    const durationMs = Date.now() - started;
    core.setOutput('duration-ms', String(durationMs));
    report.facts.push(['Duration', formatDuration(durationMs)]);
    report.verdict = 'success';
    report.headline = `${bytesText(result.bytes).split(' (')[0]} written and ${inputs.verify === 'none' ? 'not verified' : 'verified'}`;

    // Phase 4: retention, only after a verified backup.
    await applyRetention(inputs, s3, folder, key, now, report);
  } finally {
    await stopEarly();
    await session?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function restoreMode(
  inputs: Inputs,
  deps: Deps,
  signal: AbortSignal,
  report: Report,
): Promise<void> {
  const started = Date.now();
  const s3 = await s3Client(inputs, deps);
  const { checkBucket } = await import('../../../packages/backup/src/store');
  const { backupFolder } = await import('../../../packages/backup/src/keys');
  const { restoreBackup, resolveBackupKey } = await import('../../../packages/backup/src/restore');
  const bucket = inputs.bucket as string;
  const target = inputs.database as NonNullable<Inputs['database']>;
  const folder = backupFolder(inputs.prefix, inputs.name);
  await checkBucket(s3, bucket);
  if (inputs.dryRun) {
    const { key } = await resolveBackupKey(s3, bucket, inputs.backupKey as string, folder);
    core.setOutput('key', key);
    core.setOutput('location', `s3://${bucket}/${key}`);
    report.verdict = 'neutral';
    report.headline = `dry run: would restore ${markdownSafe(key)} into ${markdownSafe(target.database)}`;
    report.facts.push(
      ['Backup', `s3://${bucket}/${markdownSafe(key)}`],
      ['Target', markdownSafe(target.display)],
    );
    return;
  }
  const dir = workDir();
  try {
    const result = await core.group('Restoring', () =>
      restoreBackup({
        s3,
        bucket,
        key: inputs.backupKey as string,
        folder,
        target,
        dir,
        signal,
        log: say,
      }),
    );
    const durationMs = Date.now() - started;
    core.setOutput('key', result.key);
    core.setOutput('location', `s3://${bucket}/${result.key}`);
    core.setOutput('bytes', String(result.bytes));
    core.setOutput('sha256', result.sha256);
    core.setOutput('duration-ms', String(durationMs));
    report.verdict = 'success';
    report.headline = `restored into ${markdownSafe(target.database)}`;
    report.facts.push(
      ['Backup', `s3://${bucket}/${result.key}`],
      [
        'Target',
        `${markdownSafe(target.display)} (PostgreSQL ${markdownSafe(result.server.version)})`,
      ],
      ['SHA-256', `\`${result.sha256}\` (verified before restoring)`],
      ['Size', bytesText(result.bytes)],
      ['Client', `${result.kind === 'custom' ? 'pg_restore' : 'psql'} ${result.client.version}`],
      ['Duration', formatDuration(durationMs)],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function snapshotMode(inputs: Inputs, signal: AbortSignal, report: Report): Promise<void> {
  const started = Date.now();
  const { RDSClient } = await import('@aws-sdk/client-rds');
  const { awsClientConfig, resolveRegion, withErrorContext } =
    await import('../../../packages/kit/src/aws');
  const { runSnapshot } = await import('../../../packages/backup/src/rds');
  const rds = withErrorContext(new RDSClient(awsClientConfig(resolveRegion(inputs.region))), 'RDS');
  const target = inputs.dbInstanceIdentifier
    ? { instance: inputs.dbInstanceIdentifier }
    : { cluster: inputs.dbClusterIdentifier as string };
  const result = await core.group('RDS snapshot', () =>
    runSnapshot({
      rds,
      target,
      environment: inputs.environment,
      sha: inputs.sha,
      keepDays: inputs.keepDays,
      keepLast: inputs.keepLast,
      dryRun: inputs.dryRun,
      timeoutMs: inputs.timeoutMs,
      signal,
      log: say,
    }),
  );
  if (!inputs.dryRun) core.setOutput('snapshot-id', result.snapshotId);
  core.setOutput('deleted', String(result.deleted.length));
  const durationMs = Date.now() - started;
  core.setOutput('duration-ms', String(durationMs));
  report.retention = result.decisions;
  report.verdict = inputs.dryRun ? 'neutral' : 'success';
  report.headline = inputs.dryRun
    ? `dry run: would create ${result.snapshotId}`
    : `${result.snapshotId} available`;
  const wouldDelete = result.decisions.filter((d) => d.action === 'delete').length;
  report.facts.push(
    ['Snapshot', `${result.snapshotId}${result.arn ? ` (${markdownSafe(result.arn)})` : ''}`],
    [
      'Source',
      inputs.dbInstanceIdentifier
        ? `DB instance ${inputs.dbInstanceIdentifier}`
        : `DB cluster ${inputs.dbClusterIdentifier}`,
    ],
    [
      'Retention',
      `${result.decisions.length} shipkit snapshot(s) of ${inputs.environment}: ${inputs.dryRun ? `${wouldDelete} would be deleted (dry run)` : `${result.deleted.length} deleted`} (keep-days ${inputs.keepDays}, keep-last ${inputs.keepLast}); snapshots without shipkit's tag are never touched`,
    ],
    ['Duration', formatDuration(durationMs)],
  );
}

async function writeSummary(inputs: Inputs, report: Report, failure?: string): Promise<void> {
  const s = new SummaryBuilder(`Database backup (${inputs.mode})`);
  s.verdict(failure ? 'failure' : report.verdict, failure ? 'failed' : report.headline);
  if (failure) s.text(markdownSafe(failure));
  s.facts([['Environment', inputs.environment], ...report.facts]);
  if (report.notes.length) s.list(report.notes);
  if (report.counts) {
    s.heading('Row counts');
    s.table(
      ['Table', 'Source', 'Restored', ''],
      report.counts.map((r) => [
        markdownSafe(r.table),
        r.source ?? '–',
        r.restored ?? '–',
        r.ok ? '✓' : '✗',
      ]),
    );
  }
  if (report.retention) {
    s.heading(`Retention${inputs.dryRun ? ' (dry run: nothing deleted)' : ''}`);
    s.table(
      ['#', inputs.mode === 'rds-snapshot' ? 'Snapshot' : 'Object', 'Time', 'Decision', 'Why'],
      report.retention.map((d) => [
        d.rank,
        markdownSafe(d.id),
        d.lastModified.toISOString(),
        d.action === 'delete' ? (inputs.dryRun ? 'would delete' : 'deleted') : 'kept',
        d.reason,
      ]),
    );
  }
  await s.write();
}

/** Runs db-backup: validates every input, then backs up, restores or snapshots. */
export async function run(deps: Deps = {}): Promise<void> {
  await runAction(async ({ signal }) => {
    const inputs = getInputs();
    const report: Report = { verdict: 'success', headline: '', facts: [], notes: [] };
    core.setOutput('deleted', '0');
    try {
      if (inputs.mode === 'restore') await restoreMode(inputs, deps, signal, report);
      else if (inputs.mode === 'rds-snapshot') await snapshotMode(inputs, signal, report);
      else await backupMode(inputs, deps, signal, report);
    } catch (error) {
      await writeSummary(inputs, report, failureMessage(error)).catch(() => undefined);
      throw error;
    }
    await writeSummary(inputs, report);
  });
}
