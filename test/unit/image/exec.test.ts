import { readdirSync, readFileSync } from 'node:fs';
import { CommandNotFoundError, runCommand } from '../../../packages/image/src/exec';
import { CancelledError } from '../../../packages/kit/src/errors';

/** Processes whose command line contains `needle` (a sleep no other process runs). */
function processesRunning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(needle)) found.push(`${pid} ${cmd}`);
    } catch {
      // gone already
    }
  }
  return found;
}

/** Resolves once no process runs `needle` (each check waits for the next exit event). */
async function gone(needle: string): Promise<string[]> {
  for (let i = 0; i < 50 && processesRunning(needle).length; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  return processesRunning(needle);
}

describe('runCommand', () => {
  it('collects stdout and stderr lines and the exit code', async () => {
    const result = await runCommand('sh', ['-c', 'echo one; echo two >&2; exit 3']);
    expect(result.code).toBe(3);
    expect(result.lines.sort()).toEqual(['one', 'two']);
    expect(result.stdout).toBe('one\n');
  });

  it('rejects a command that is not installed', async () => {
    await expect(runCommand('shipkit-no-such-command', [])).rejects.toThrow(CommandNotFoundError);
  });

  it.each([
    ['a command that stops on SIGTERM', ''],
    ['a command that ignores SIGTERM', "trap '' TERM; "],
  ])(
    'on abort stops %s and everything it started, rejecting with the reason',
    async (_name, trap) => {
      const needle = `sleep 7${trap ? 435 : 434}`;
      const controller = new AbortController();
      const attempt = runCommand('sh', ['-c', `${trap}${needle} & echo started; wait`], {
        signal: controller.signal,
        graceMs: 200,
        onLine: (line) => {
          if (line === 'started') controller.abort(new CancelledError('stop'));
        },
      });
      await expect(attempt).rejects.toThrow(new CancelledError('stop'));
      expect(await gone(needle)).toEqual([]);
    },
  );

  it('on timeout kills the command and everything it started', async () => {
    const needle = 'sleep 7436';
    const result = await runCommand('sh', ['-c', `${needle} & wait`], { timeoutMs: 200 });
    expect(result.code).not.toBe(0);
    expect(await gone(needle)).toEqual([]);
  });
});
