import { ConfigurationError } from './errors';
import { VERSION } from './version';

/** Options every shipkit AWS client is created with. Endpoints come from the SDK's own settings. */
export interface AwsClientConfig {
  region: string;
  retryMode: 'adaptive';
  maxAttempts: number;
  customUserAgent: [string, string][];
}

/**
 * The region from the input, else `AWS_REGION`, else `AWS_DEFAULT_REGION`.
 * Throws a {@link ConfigurationError} naming `inputName` when none is set.
 */
export function resolveRegion(fromInput?: string, inputName = 'region'): string {
  const region = fromInput || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new ConfigurationError(
      `No AWS region: set input \`${inputName}\` or the AWS_REGION environment variable (aws-actions/configure-aws-credentials sets it).`,
    );
  }
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new ConfigurationError(
      `Input \`${inputName}\` must be an AWS region such as \`eu-west-1\`; got \`${region}\`.`,
    );
  }
  return region;
}

/** Shared client options: region, adaptive retries and a `shipkit/<version>` user-agent suffix. */
export function awsClientConfig(region: string): AwsClientConfig {
  return {
    region,
    retryMode: 'adaptive',
    maxAttempts: 6,
    customUserAgent: [['shipkit', VERSION]],
  };
}

interface MiddlewareClient {
  middlewareStack: {
    add(middleware: unknown, options: { step: 'initialize'; name: string }): void;
  };
}

/**
 * Adds a middleware that records the service and operation on every error the client throws
 * (`$service`, `$operation`), so the run wrapper can say which call failed.
 */
export function withErrorContext<C extends MiddlewareClient>(client: C, service: string): C {
  const middleware =
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
    async (args: unknown): Promise<unknown> => {
      try {
        return await next(args);
      } catch (error) {
        if (error && typeof error === 'object') {
          const e = error as { $service?: string; $operation?: string };
          e.$service ??= service;
          e.$operation ??= context.commandName?.replace(/Command$/, '');
        }
        throw error;
      }
    };
  client.middlewareStack.add(middleware, { step: 'initialize', name: 'shipkitErrorContext' });
  return client;
}
