import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { startLocalAws } from '../../../packages/local-aws/src';

const T0 = 1_700_000_000_000;

function client(endpoint: string, region: string): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' },
  });
}

test('log groups, streams and events survive a restart with the same state file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'local-aws-logs-state-'));
  const stateFile = join(dir, 'state.json');
  // A message that looks like a timestamp must come back as text, not as a date.
  const messages = ['migrating', '2026-01-01T00:00:00Z', 'done'];
  try {
    const first = await startLocalAws({ stateFile, dataDir: join(dir, 'data') });
    const before = client(first.endpoint, 'eu-west-1');
    await before.send(new CreateLogGroupCommand({ logGroupName: '/ecs/api' }));
    await before.send(
      new CreateLogStreamCommand({ logGroupName: '/ecs/api', logStreamName: 'app/web/1' }),
    );
    await before.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/api',
        logStreamName: 'app/web/1',
        logEvents: messages.map((message, i) => ({ timestamp: T0 + i, message })),
      }),
    );
    before.destroy();
    await first.stop();

    const second = await startLocalAws({ stateFile, dataDir: join(dir, 'data') });
    const after = client(second.endpoint, 'eu-west-1');
    const other = client(second.endpoint, 'us-east-1');
    try {
      const out = await after.send(
        new GetLogEventsCommand({
          logGroupName: '/ecs/api',
          logStreamName: 'app/web/1',
          startFromHead: true,
        }),
      );
      expect(out.events!.map((e) => [e.timestamp, e.message])).toEqual(
        messages.map((m, i) => [T0 + i, m]),
      );
      const streams = await after.send(new DescribeLogStreamsCommand({ logGroupName: '/ecs/api' }));
      expect(streams.logStreams!.map((s) => s.logStreamName)).toEqual(['app/web/1']);
      // The group stays in its own region.
      await expect(
        other.send(new DescribeLogStreamsCommand({ logGroupName: '/ecs/api' })),
      ).rejects.toThrow('The specified log group does not exist.');
    } finally {
      after.destroy();
      other.destroy();
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
