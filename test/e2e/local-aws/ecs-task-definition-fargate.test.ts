/**
 * RegisterTaskDefinition refuses, as ECS does, a task definition that requires FARGATE but
 * could never run there (network mode, task size), and converts `1 vCPU` / `2 GB` to units.
 * The valid sizes are the table of the ECS developer guide ("Troubleshoot Amazon ECS task
 * definition invalid CPU or memory errors") and of RegisterTaskDefinition's `memory` member.
 */
import {
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { startLocalAws, type LocalAws } from '../../../packages/local-aws/src';

let aws: LocalAws;
let ecs: ECSClient;

beforeAll(async () => {
  aws = await startLocalAws({ port: 0 });
  ecs = new ECSClient({
    endpoint: aws.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  ecs?.destroy();
  await aws?.stop();
});

const containerDefinitions = [{ name: 'app', image: 'app:1', essential: true }];
const fargate: RegisterTaskDefinitionCommandInput = {
  family: 'sized',
  requiresCompatibilities: ['FARGATE'],
  networkMode: 'awsvpc',
  containerDefinitions,
};

function register(extra: Partial<RegisterTaskDefinitionCommandInput>): Promise<unknown> {
  return ecs.send(
    new RegisterTaskDefinitionCommand({ ...fargate, cpu: '256', memory: '512', ...extra }),
  );
}

test.each<[string, Partial<RegisterTaskDefinitionCommandInput>, string]>([
  [
    'network mode bridge',
    { networkMode: 'bridge' },
    'Fargate only supports network mode ‘awsvpc’.',
  ],
  ['no network mode', { networkMode: undefined }, 'Fargate only supports network mode ‘awsvpc’.'],
  ['no task cpu', { cpu: undefined }, "Fargate requires that 'cpu' be defined at the task level."],
  [
    'no task memory',
    { memory: undefined },
    "Fargate requires that 'memory' be defined at the task level.",
  ],
  ['cpu 300', { cpu: '300' }, "Invalid 'cpu' setting for task."],
  [
    '256 CPU with 4096 MiB',
    { memory: '4096' },
    'No Fargate configuration exists for given values: 256 CPU, 4096 memory. See the Amazon ECS documentation for the valid values.',
  ],
  [
    '2048 CPU with 4500 MiB (not a whole GB)',
    { cpu: '2048', memory: '4500' },
    'No Fargate configuration exists for given values: 2048 CPU, 4500 memory. See the Amazon ECS documentation for the valid values.',
  ],
])(
  'a FARGATE task definition with %s is refused with ClientException',
  async (_n, extra, message) => {
    await expect(register(extra)).rejects.toMatchObject({ name: 'ClientException', message });
  },
);

test.each<[string, string, string]>([
  ['256', '512', 'the smallest size'],
  ['1024', '8192', '1 vCPU with 8 GB'],
  ['4096', '30720', '4 vCPU with 30 GB'],
  ['8192', '61440', '8 vCPU with 60 GB'],
  ['16384', '32768', '16 vCPU with 32 GB'],
])('cpu %s with memory %s (%s) is registered', async (cpu, memory) => {
  await expect(register({ cpu, memory })).resolves.toMatchObject({
    taskDefinition: { cpu, memory },
  });
});

test('cpu "1 vCPU" and memory "2 GB" are registered as 1024 units and 2048 MiB', async () => {
  await expect(register({ cpu: '1 vCPU', memory: '2 GB' })).resolves.toMatchObject({
    taskDefinition: { cpu: '1024', memory: '2048' },
  });
});

test('a task definition that does not require FARGATE keeps any network mode and size', async () => {
  await expect(
    ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'on-ec2',
        networkMode: 'bridge',
        cpu: '300',
        memory: '700',
        containerDefinitions,
      }),
    ),
  ).resolves.toMatchObject({ taskDefinition: { networkMode: 'bridge', cpu: '300' } });
});
