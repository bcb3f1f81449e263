import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type {
  GetLogEventsCommandInput,
  GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import type {
  DescribeServicesCommandInput,
  DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommandInput,
  DescribeTaskDefinitionCommandOutput,
  DescribeTasksCommandInput,
  DescribeTasksCommandOutput,
  ECSClient,
  ListTasksCommandInput,
  ListTasksCommandOutput,
  RegisterTaskDefinitionCommandInput,
  RegisterTaskDefinitionCommandOutput,
  RunTaskCommandInput,
  RunTaskCommandOutput,
  StopTaskCommandInput,
  StopTaskCommandOutput,
} from '@aws-sdk/client-ecs';

/**
 * The ECS operations a one-off task run calls, one method per operation, so tests hand in a
 * small typed fake; {@link createRunTaskEcs} adapts an SDK client.
 */
export interface RunTaskEcs {
  runTask(input: RunTaskCommandInput): Promise<RunTaskCommandOutput>;
  describeTasks(input: DescribeTasksCommandInput): Promise<DescribeTasksCommandOutput>;
  stopTask(input: StopTaskCommandInput): Promise<StopTaskCommandOutput>;
  listTasks(input: ListTasksCommandInput): Promise<ListTasksCommandOutput>;
  registerTaskDefinition(
    input: RegisterTaskDefinitionCommandInput,
  ): Promise<RegisterTaskDefinitionCommandOutput>;
  describeServices(input: DescribeServicesCommandInput): Promise<DescribeServicesCommandOutput>;
  describeTaskDefinition(
    input: DescribeTaskDefinitionCommandInput,
  ): Promise<DescribeTaskDefinitionCommandOutput>;
}

/** The CloudWatch Logs operation a task's log follower calls. */
export interface LogsReader {
  getLogEvents(input: GetLogEventsCommandInput): Promise<GetLogEventsCommandOutput>;
}

/** A {@link LogsReader} for a region (the awslogs configuration names the region of its group). */
export type LogsReaderFor = (region: string) => LogsReader;

/** Adapts an SDK v3 ECS client to {@link RunTaskEcs}. */
export async function createRunTaskEcs(client: ECSClient): Promise<RunTaskEcs> {
  const sdk = await import('@aws-sdk/client-ecs');
  return {
    runTask: (i) => client.send(new sdk.RunTaskCommand(i)),
    describeTasks: (i) => client.send(new sdk.DescribeTasksCommand(i)),
    stopTask: (i) => client.send(new sdk.StopTaskCommand(i)),
    listTasks: (i) => client.send(new sdk.ListTasksCommand(i)),
    registerTaskDefinition: (i) => client.send(new sdk.RegisterTaskDefinitionCommand(i)),
    describeServices: (i) => client.send(new sdk.DescribeServicesCommand(i)),
    describeTaskDefinition: (i) => client.send(new sdk.DescribeTaskDefinitionCommand(i)),
  };
}

/** Adapts an SDK v3 CloudWatch Logs client to {@link LogsReader}. */
export async function createLogsReader(client: CloudWatchLogsClient): Promise<LogsReader> {
  const sdk = await import('@aws-sdk/client-cloudwatch-logs');
  return { getLogEvents: (i) => client.send(new sdk.GetLogEventsCommand(i)) };
}
