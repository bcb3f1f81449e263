import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type {
  GetLogEventsCommandInput,
  GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import type {
  ECSClient,
  RunTaskCommandInput,
  RunTaskCommandOutput,
  StopTaskCommandInput,
  StopTaskCommandOutput,
} from '@aws-sdk/client-ecs';
import { createEcsApi, type EcsApi } from '../api';

/** The operations of {@link EcsApi} a one-off task run calls too (to find, register and watch). */
type SharedOperations =
  | 'describeTasks'
  | 'listTasks'
  | 'registerTaskDefinition'
  | 'describeServices'
  | 'describeTaskDefinition';

/**
 * The ECS operations a one-off task run calls, one method per operation, so tests hand in a
 * small typed fake: those it shares with {@link EcsApi}, plus RunTask and StopTask, which only a
 * one-off run calls. {@link createRunTaskEcs} adapts an SDK client.
 */
export interface RunTaskEcs extends Pick<EcsApi, SharedOperations> {
  runTask(input: RunTaskCommandInput): Promise<RunTaskCommandOutput>;
  stopTask(input: StopTaskCommandInput): Promise<StopTaskCommandOutput>;
}

/** The CloudWatch Logs operation a task's log follower calls. */
export interface LogsReader {
  getLogEvents(input: GetLogEventsCommandInput): Promise<GetLogEventsCommandOutput>;
}

/** A {@link LogsReader} for a region (the awslogs configuration names the region of its group). */
export type LogsReaderFor = (region: string) => LogsReader;

/**
 * Adapts an SDK v3 ECS client to {@link RunTaskEcs}: the shared operations through
 * {@link createEcsApi} (one list of commands for both), RunTask and StopTask here.
 */
export async function createRunTaskEcs(client: ECSClient): Promise<RunTaskEcs> {
  const [api, sdk] = await Promise.all([createEcsApi(client), import('@aws-sdk/client-ecs')]);
  return {
    describeTasks: api.describeTasks,
    listTasks: api.listTasks,
    registerTaskDefinition: api.registerTaskDefinition,
    describeServices: api.describeServices,
    describeTaskDefinition: api.describeTaskDefinition,
    runTask: (i) => client.send(new sdk.RunTaskCommand(i)),
    stopTask: (i) => client.send(new sdk.StopTaskCommand(i)),
  };
}

/** Adapts an SDK v3 CloudWatch Logs client to {@link LogsReader}. */
export async function createLogsReader(client: CloudWatchLogsClient): Promise<LogsReader> {
  const sdk = await import('@aws-sdk/client-cloudwatch-logs');
  return { getLogEvents: (i) => client.send(new sdk.GetLogEventsCommand(i)) };
}
