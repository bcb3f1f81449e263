import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '../../../packages/kit/src/core';
import { parseFileCommands } from '../../support/run-action';

let dir: string;
let written: string[];
let writeSpy: jest.SpyInstance;
const saved = { ...process.env };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shipkit-core-'));
  for (const v of ['GITHUB_OUTPUT', 'GITHUB_STATE', 'GITHUB_ENV', 'GITHUB_STEP_SUMMARY']) {
    process.env[v] = join(dir, v);
    writeFileSync(process.env[v] as string, '');
  }
  written = [];
  writeSpy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
});
afterEach(() => {
  writeSpy.mockRestore();
  process.env = { ...saved };
  process.exitCode = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('the runner protocol', () => {
  test('outputs, state and env go to their files, multi-line values intact', () => {
    core.setOutput('reason', 'line one\nline two');
    core.setOutput('empty', '');
    core.saveState('login', 'registry:5000');
    core.exportVariable('DOCKER_CONFIG', '/tmp/x');
    expect(parseFileCommands(readFileSync(join(dir, 'GITHUB_OUTPUT'), 'utf8'))).toEqual({
      reason: 'line one\nline two',
      empty: '',
    });
    expect(parseFileCommands(readFileSync(join(dir, 'GITHUB_STATE'), 'utf8'))).toEqual({
      login: 'registry:5000',
    });
    expect(parseFileCommands(readFileSync(join(dir, 'GITHUB_ENV'), 'utf8'))).toEqual({
      DOCKER_CONFIG: '/tmp/x',
    });
    expect(process.env.DOCKER_CONFIG).toBe('/tmp/x');
  });

  test('inputs are read like the runner passes them', () => {
    process.env['INPUT_EXPECT-JSON'] = '  status=UP  ';
    process.env.INPUT_MY_INPUT = 'x';
    expect(core.getInput('expect-json')).toBe('status=UP');
    expect(core.getInput('expect-json', { trimWhitespace: false })).toBe('  status=UP  ');
    expect(core.getInput('my input')).toBe('x');
    expect(core.getInput('absent')).toBe('');
    expect(() => core.getInput('absent', { required: true })).toThrow(
      'Input required and not supplied: absent',
    );
  });

  test('commands escape their data so a value cannot inject another command', () => {
    core.setSecret('p%ss\nword');
    core.warning('50% done\n::error::fake', { title: 'a: b, c' });
    core.setFailed('broken');
    expect(written).toEqual([
      '::add-mask::p%25ss%0Aword\n',
      '::warning title=a%3A b%2C c::50%25 done%0A::error::fake\n',
      '::error::broken\n',
    ]);
    expect(process.exitCode).toBe(1);
  });

  test('groups wrap their output and close on errors', async () => {
    await expect(core.group('phase', async () => Promise.reject(new Error('x')))).rejects.toThrow(
      'x',
    );
    expect(written).toEqual(['::group::phase\n', '::endgroup::\n']);
  });

  test('state is read back from STATE_ variables; the summary is appended', () => {
    process.env.STATE_login = 'r';
    expect(core.getState('login')).toBe('r');
    expect(core.appendSummary('### hi\n')).toBe(true);
    expect(readFileSync(join(dir, 'GITHUB_STEP_SUMMARY'), 'utf8')).toBe('### hi\n');
    delete process.env.GITHUB_STEP_SUMMARY;
    expect(core.appendSummary('x')).toBe(false);
  });
});
