/**
 * Task-level `cpu` and `memory` of RegisterTaskDefinition: the `1 vCPU` / `2 GB` forms ECS
 * converts to units and MiB, and the checks ECS makes on a task definition that requires
 * FARGATE (network mode `awsvpc`, a task size from Fargate's table).
 */
import { AwsError } from '../contracts';

/** Memory sizes (MiB) Fargate accepts with each task CPU value (CPU units). */
const FARGATE_MEMORY: ReadonlyMap<number, { from: number; to: number; step: number }[]> = new Map([
  [
    256,
    [
      { from: 512, to: 512, step: 1 },
      { from: 1024, to: 2048, step: 1024 },
    ],
  ],
  [512, [{ from: 1024, to: 4096, step: 1024 }]],
  [1024, [{ from: 2048, to: 8192, step: 1024 }]],
  [2048, [{ from: 4096, to: 16384, step: 1024 }]],
  [4096, [{ from: 8192, to: 30720, step: 1024 }]],
  [8192, [{ from: 16384, to: 61440, step: 4096 }]],
  [16384, [{ from: 32768, to: 122880, step: 8192 }]],
]);

/** `value` with a unit suffix (`1 vCPU`, `0.5GB`) as a whole number of units, else as given. */
function convert(value: unknown, unit: RegExp, factor: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value).trim();
  const m = new RegExp(`^(\\d+(?:\\.\\d+)?)\\s*${unit.source}$`, 'i').exec(text);
  return m ? String(Math.round(Number(m[1]) * factor)) : text;
}

/** Task `cpu` in CPU units: `1 vCPU` → `1024`; other values are kept. */
export function taskCpu(value: unknown): string | undefined {
  return convert(value, /vcpu/, 1024);
}

/** Task `memory` in MiB: `2 GB` → `2048`; other values are kept. */
export function taskMemory(value: unknown): string | undefined {
  return convert(value, /gb/, 1024);
}

/**
 * Refuses a task definition that requires FARGATE but could not run there, with the
 * `ClientException` messages ECS gives.
 */
export function checkFargateTaskDefinition(td: {
  requiresCompatibilities?: unknown;
  networkMode?: unknown;
  cpu?: string;
  memory?: string;
}): void {
  const required = Array.isArray(td.requiresCompatibilities) ? td.requiresCompatibilities : [];
  if (!required.includes('FARGATE')) return;
  if (td.networkMode !== 'awsvpc')
    throw new AwsError('ClientException', 'Fargate only supports network mode ‘awsvpc’.');
  if (td.cpu === undefined)
    throw new AwsError(
      'ClientException',
      "Fargate requires that 'cpu' be defined at the task level.",
    );
  if (td.memory === undefined)
    throw new AwsError(
      'ClientException',
      "Fargate requires that 'memory' be defined at the task level.",
    );
  const sizes = /^\d+$/.test(td.cpu) ? FARGATE_MEMORY.get(Number(td.cpu)) : undefined;
  if (!sizes) throw new AwsError('ClientException', "Invalid 'cpu' setting for task.");
  const memory = /^\d+$/.test(td.memory) ? Number(td.memory) : NaN;
  if (!sizes.some((s) => memory >= s.from && memory <= s.to && (memory - s.from) % s.step === 0)) {
    throw new AwsError(
      'ClientException',
      `No Fargate configuration exists for given values: ${td.cpu} CPU, ${td.memory} memory. See the Amazon ECS documentation for the valid values.`,
    );
  }
}
