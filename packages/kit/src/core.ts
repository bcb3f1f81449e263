/**
 * The Actions runner protocol: inputs, outputs, state, masking, log commands and the job
 * summary, implemented on Node's standard library only. It follows @actions/core's documented
 * behaviour for the calls shipkit makes, without loading its HTTP client (about 460 KB that every
 * action would parse at start for an OIDC call shipkit never makes).
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';
import { defuseCommands } from './log-text';

function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Writes a workflow command (`::name key=value::message`) to stdout. */
export function issueCommand(
  command: string,
  properties: Record<string, string | number | undefined>,
  message: string,
): void {
  const props = Object.entries(properties)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  process.stdout.write(`::${command}${props ? ` ${props}` : ''}::${escapeData(message)}${EOL}`);
}

/** Appends `name<<delimiter` / value / `delimiter` to one of the runner's command files. */
function fileCommand(variable: string, name: string, value: string): boolean {
  const file = process.env[variable];
  if (!file) return false;
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new Error(`Unexpected input: the value of ${name} contains the delimiter ${delimiter}`);
  }
  appendFileSync(file, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`, 'utf8');
  return true;
}

/** Options of {@link getInput}. */
export interface InputOptions {
  required?: boolean;
  trimWhitespace?: boolean;
}

/** The value of input `name` (`INPUT_<NAME>`), '' when unset. */
export function getInput(name: string, options: InputOptions = {}): string {
  const value = process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '';
  if (options.required && !value) throw new Error(`Input required and not supplied: ${name}`);
  return options.trimWhitespace === false ? value : value.trim();
}

/** Sets step output `name`. */
export function setOutput(name: string, value: string): void {
  if (!fileCommand('GITHUB_OUTPUT', name, value)) {
    process.stdout.write(EOL);
    issueCommand('set-output', { name }, value);
  }
}

/** Saves a value for this action's post step. */
export function saveState(name: string, value: string): void {
  if (!fileCommand('GITHUB_STATE', name, value)) issueCommand('save-state', { name }, value);
}

/** A value saved by the main step with {@link saveState}, '' when none. */
export function getState(name: string): string {
  return process.env[`STATE_${name}`] ?? '';
}

/** Registers a value the runner must mask in every log line from now on. */
export function setSecret(secret: string): void {
  issueCommand('add-mask', {}, secret);
}

/** Sets an environment variable for this and later steps. */
export function exportVariable(name: string, value: string): void {
  process.env[name] = value;
  if (!fileCommand('GITHUB_ENV', name, value)) issueCommand('set-env', { name }, value);
}

/**
 * A plain log line. A line of `message` that the runner would read as a command (`::…` at its
 * start, `##[…` anywhere) is broken up: commands are written only by the functions made for them.
 * Text from outside should still go through `logSafe` (log-text.ts) so it stays on one line.
 */
export function info(message: string): void {
  process.stdout.write(defuseCommands(message) + EOL);
}

/** A debug line, shown when step debug logging is on. */
export function debug(message: string): void {
  issueCommand('debug', {}, message);
}

/** Where an annotation points (all optional). */
export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
  endLine?: number;
}

function annotation(kind: string, message: string | Error, props: AnnotationProperties = {}): void {
  const text = message instanceof Error ? message.toString() : message;
  issueCommand(
    kind,
    { title: props.title, file: props.file, line: props.startLine, endLine: props.endLine },
    text,
  );
}

/** A warning annotation. */
export function warning(message: string | Error, props?: AnnotationProperties): void {
  annotation('warning', message, props);
}

/** An error annotation. */
export function error(message: string | Error, props?: AnnotationProperties): void {
  annotation('error', message, props);
}

/** A notice annotation. */
export function notice(message: string | Error, props?: AnnotationProperties): void {
  annotation('notice', message, props);
}

/** Marks the step failed with `message` (exit code 1). */
export function setFailed(message: string | Error): void {
  process.exitCode = 1;
  error(message);
}

/** Starts a collapsible group in the log. */
export function startGroup(name: string): void {
  issueCommand('group', {}, name);
}

/** Ends the current group. */
export function endGroup(): void {
  process.stdout.write(`::endgroup::${EOL}`);
}

/** Runs `fn` inside a collapsible log group. */
export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  startGroup(name);
  try {
    return await fn();
  } finally {
    endGroup();
  }
}

/** Appends Markdown to the job summary; false when there is no summary file. */
export function appendSummary(markdown: string): boolean {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  appendFileSync(file, markdown, 'utf8');
  return true;
}
