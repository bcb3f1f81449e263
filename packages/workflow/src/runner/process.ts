// A step's process: started with the runner's environment, its log lines read as the runner
// reads them (masks, annotations, groups), its command files read back, cancel and timeout.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOutputLine } from '../commands';
import { createCommandFiles, readCommandFiles, runnerEnvironment } from './environment';
import type { Conclusion, RunState } from './types';

/** A process a step runs, and where its log and summary go. */
export interface ProcessRun {
  argv?: string[];
  file?: string;
  env: Record<string, string>;
  cwd?: string;
  logPath: string;
  key: string;
  label: string;
  summaryPath: string;
  extraPath: string[];
  timeoutMinutes?: number;
}

/** How a step's process ended and what it wrote. */
export interface ProcessResult {
  outcome: Conclusion;
  outputs: Record<string, string>;
  state: Record<string, string>;
  envChanges: Record<string, string>;
  annotations: { level: string; text: string }[];
  error?: string;
  startedAt: number;
  durationMs: number;
}

/** Runs `p.file` with this machine's Node. */
export function runNode(state: RunState, p: ProcessRun): Promise<ProcessResult> {
  return runProcess(state, { ...p, argv: [process.execPath, p.file!] });
}

/** Runs a step's process with the runner's environment, reading its log and command files. */
export async function runProcess(state: RunState, p: ProcessRun): Promise<ProcessResult> {
  const startedAt = Date.now();
  const files = createCommandFiles(join(state.runnerTemp, randomUUID()));
  const env: Record<string, string> = {
    ...state.baseEnv,
    ...runnerEnvironment({
      workspace: state.workspace,
      runnerTemp: state.runnerTemp,
      github: state.github,
      job: p.key.split('/').pop()!,
    }),
    ...(state.opts.env ?? {}),
    ...p.env,
    ...files,
  };
  if (p.extraPath.length) env.PATH = [...p.extraPath, env.PATH ?? ''].join(':');
  const log: string[] = [];
  const annotations: { level: string; text: string }[] = [];
  const setOutputs: Record<string, string> = {};
  const savedState: Record<string, string> = {};
  const child = spawn(p.argv![0], p.argv!.slice(1), {
    cwd: p.cwd ?? state.workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onAbort = (): void => {
    child.kill('SIGTERM');
  };
  state.opts.signal?.addEventListener('abort', onAbort);
  let timedOut = false;
  const timer =
    p.timeoutMinutes && p.timeoutMinutes > 0
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
        }, p.timeoutMinutes * 60_000)
      : undefined;
  const handle = (line: string, stream: 'stdout' | 'stderr'): void => {
    const parsed = parseOutputLine(line);
    switch (parsed.kind) {
      case 'mask':
        state.masker.add(parsed.value);
        return;
      case 'annotation': {
        const text = state.masker.mask(parsed.text);
        annotations.push({ level: parsed.level, text });
        log.push(`${parsed.level}: ${text}`);
        state.opts.onEvent?.({
          type: 'log',
          job: p.key,
          step: p.label,
          line: text,
          level: parsed.level,
        });
        return;
      }
      case 'debug':
        log.push(`debug: ${state.masker.mask(parsed.text)}`);
        return;
      case 'group':
        log.push(`▸ ${state.masker.mask(parsed.title)}`);
        state.opts.onEvent?.({
          type: 'log',
          job: p.key,
          step: p.label,
          line: `▸ ${state.masker.mask(parsed.title)}`,
        });
        return;
      case 'endgroup':
        return;
      case 'set-output':
        setOutputs[parsed.name] = parsed.value;
        return;
      case 'save-state':
        savedState[parsed.name] = parsed.value;
        return;
      case 'text': {
        const text = state.masker.mask(parsed.text);
        log.push(stream === 'stderr' ? text : text);
        state.opts.onEvent?.({ type: 'log', job: p.key, step: p.label, line: text });
      }
    }
  };
  const pump = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): Promise<void> =>
    new Promise((done) => {
      let buffer = '';
      stream.on('data', (d: Buffer) => {
        buffer += d.toString();
        let at: number;
        while ((at = buffer.indexOf('\n')) >= 0) {
          handle(buffer.slice(0, at).replace(/\r$/, ''), name);
          buffer = buffer.slice(at + 1);
        }
      });
      stream.on('end', () => {
        if (buffer) handle(buffer, name);
        done();
      });
    });
  const pumps = Promise.all([pump(child.stdout!, 'stdout'), pump(child.stderr!, 'stderr')]);
  const code = await new Promise<number | null>((done) => {
    child.on('error', (error) => {
      log.push(`cannot start ${p.argv![0]}: ${error.message}`);
      done(127);
    });
    child.on('close', (c) => done(c));
  });
  await pumps;
  if (timer) clearTimeout(timer);
  state.opts.signal?.removeEventListener('abort', onAbort);
  const written = readCommandFiles(files);
  const outputs = { ...setOutputs, ...written.outputs };
  const envChanges = written.env;
  for (const dir of written.path) p.extraPath.unshift(dir);
  const stateOut = { ...savedState, ...written.state };
  const summary = written.summary;
  if (summary)
    appendFileSync(
      p.summaryPath,
      state.masker.mask(summary.endsWith('\n') ? summary : `${summary}\n`),
    );
  const cancelled = state.cancelled();
  let error: string | undefined;
  if (code !== 0) {
    error =
      annotations
        .filter((a) => a.level === 'error')
        .map((a) => a.text)
        .join('\n') ||
      (timedOut
        ? `timed out after ${p.timeoutMinutes} minutes`
        : cancelled
          ? 'cancelled'
          : `exited with code ${code ?? 'null (killed)'}`);
  }
  log.push(
    code === 0
      ? '(exit 0)'
      : `(exit ${code ?? 'killed'}${error ? `: ${error.split('\n')[0]}` : ''})`,
  );
  writeFileSync(p.logPath, `${log.join('\n')}\n`);
  return {
    outcome: code === 0 ? 'success' : cancelled ? 'cancelled' : 'failure',
    outputs,
    state: stateOut,
    envChanges,
    annotations,
    error,
    startedAt,
    durationMs: Date.now() - startedAt,
  };
}
