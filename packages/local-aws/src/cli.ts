/**
 * `npx local-aws [--port 4566] [--host 127.0.0.1] [--time-scale N] [--state-file F] [--data-dir D]
 * [--log-requests]`
 * Prints `local-aws listening on http://HOST:PORT` when ready, then (with `--log-requests`) one
 * line per request; SIGINT/SIGTERM stop the tasks, save the state file and exit.
 */
import { startLocalAws, type LocalAwsOptions } from './index';

const USAGE =
  'usage: local-aws [--port 4566] [--host 127.0.0.1] [--time-scale N] [--state-file FILE] [--data-dir DIR] [--log-requests]';

/** Parses the command line; throws with a message naming the bad flag. */
export function parseArgs(argv: string[]): LocalAwsOptions {
  const opts: LocalAwsOptions = { port: 4566, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`\`${flag}\` needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          throw new Error('`--port` must be an integer between 0 and 65535');
        opts.port = n;
        break;
      }
      case '--host':
        opts.host = value();
        break;
      case '--time-scale': {
        const n = Number(value());
        if (!(n > 0) || !Number.isFinite(n))
          throw new Error('`--time-scale` must be a positive number');
        opts.timeScale = n;
        break;
      }
      case '--state-file':
        opts.stateFile = value();
        break;
      case '--data-dir':
        opts.dataDir = value();
        break;
      case '--log-requests':
        if (inline !== undefined) throw new Error('`--log-requests` takes no value');
        opts.logRequests = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument \`${arg}\``);
    }
  }
  return opts;
}

/** Runs the command line: starts local-aws and stops it on SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  let opts: LocalAwsOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`local-aws: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const aws = await startLocalAws({ ...opts, log: (line) => console.error(line) });
  console.log(`local-aws listening on ${aws.endpoint}`);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.error(
      `local-aws: ${signal}, stopping tasks${opts.stateFile ? ' and saving state' : ''}…`,
    );
    aws.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`local-aws: stop failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** Entry for `bin/local-aws.js` and for running this file directly. */
export function run(): void {
  main().catch((error: unknown) => {
    console.error(`local-aws: ${(error as Error).message}`);
    process.exit(1);
  });
}

if (require.main === module) run();
