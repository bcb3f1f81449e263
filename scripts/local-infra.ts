// `npm run local-infra -- [--environment development|staging|production]… [--endpoint URL | --port N]
//   [--workspace DIR] [--region REGION]`
// Creates in local-aws, idempotently, what the example workflows expect (ECR repositories, ECS
// clusters, task definitions and services, load balancers, listeners and target groups), then
// prints the `export AWS_ENDPOINT_URL=…` lines and the `npm run workflow -- …` commands that
// deploy to them. With `--endpoint` it uses a local-aws that already runs; without it, it starts
// one and keeps it running until Ctrl-C.
import { resolve } from 'node:path';
import { startLocalAws, type LocalAws } from '../packages/local-aws/src';
import {
  ENVIRONMENTS,
  LocalInfraError,
  instructions,
  provision,
  type EnvironmentName,
} from './lib/local-infra';

/** Where the command was started: npm runs scripts in the package root and keeps it in INIT_CWD. */
const startedIn = process.env.INIT_CWD ?? process.cwd();

function usage(message?: string): never {
  if (message) console.error(`error: ${message}`);
  console.error(
    [
      'usage: npm run local-infra -- [--environment development|staging|production]… [--endpoint URL | --port N] [--workspace DIR] [--region REGION]',
      '  --environment name  an environment to create (repeatable); default: all three',
      '  --endpoint URL      a local-aws that already runs; default: start one here and keep it running until Ctrl-C',
      '  --port N            the port of the local-aws it starts (without --endpoint); default: a free port',
      '  --workspace DIR     the repository the printed workflow commands run in (passed on as --workspace)',
      '  --region REGION     the region the resources are created in; default: $AWS_REGION, else us-east-1',
    ].join('\n'),
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const environments: EnvironmentName[] = [];
  let endpoint: string | undefined;
  let port: number | undefined;
  let workspace: string | undefined;
  let region = process.env.AWS_REGION || 'us-east-1';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = (): string => args[++i] ?? usage(`${a} needs a value`);
    if (a === '--environment') {
      const name = next();
      if (!(ENVIRONMENTS as readonly string[]).includes(name))
        usage(`--environment takes one of ${ENVIRONMENTS.join(', ')}, got \`${name}\``);
      if (!environments.includes(name as EnvironmentName))
        environments.push(name as EnvironmentName);
    } else if (a === '--endpoint') endpoint = next();
    else if (a === '--port') {
      const text = next();
      port = Number(text);
      if (!/^\d+$/.test(text) || port < 1 || port > 65535)
        usage(`--port takes a TCP port (1-65535), got \`${text}\``);
    } else if (a === '--workspace') workspace = resolve(startedIn, next());
    else if (a === '--region') region = next();
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument \`${a}\``);
  }
  if (endpoint && port !== undefined)
    usage('--port is the port of the local-aws this command starts: leave it out with --endpoint');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    usage(`--region takes an AWS region such as us-east-1, got \`${region}\``);
  // Production promotes the staging image: create staging first when both are asked for.
  const selected = environments.length
    ? ENVIRONMENTS.filter((e) => environments.includes(e))
    : [...ENVIRONMENTS];

  let aws: LocalAws | undefined;
  if (!endpoint) {
    try {
      aws = await startLocalAws({ port: port ?? 0 });
    } catch (error) {
      throw new LocalInfraError(
        `could not start local-aws on port ${port ?? 0} (${(error as Error).message}): choose another --port, or pass --endpoint to use the local-aws that runs there`,
      );
    }
    endpoint = aws.endpoint;
    console.log(`local-aws listening on ${endpoint}`);
  }
  const stop = async (): Promise<void> => {
    if (aws) await aws.stop();
  };
  try {
    const result = await provision({ endpoint, region, environments: selected });
    console.log(
      result.created.length
        ? `created: ${result.created.join('; ')}`
        : 'nothing to create: every resource already exists',
    );
    console.log('');
    for (const line of instructions(endpoint, region, result.environments, workspace))
      console.log(line);
  } catch (error) {
    await stop();
    throw error;
  }
  if (aws) {
    console.log('');
    console.log('local-aws keeps running with these resources; Ctrl-C stops it.');
    const shutdown = (): void => {
      void stop().then(() => process.exit(0));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  }
}

main().catch((error: unknown) => {
  if (error instanceof LocalInfraError) console.error(`error: ${error.message}`);
  else {
    const e = error as { name?: string; message?: string; $metadata?: { requestId?: string } };
    const id = e.$metadata?.requestId ? ` (request id ${e.$metadata.requestId})` : '';
    console.error(`error: ${e.name ?? 'Error'}: ${e.message ?? String(error)}${id}`);
  }
  process.exit(1);
});
