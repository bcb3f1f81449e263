/** A command as the SDK builds it: its class and its input. */
export interface SentCommand {
  name: string;
  input: Record<string, unknown>;
}

/** Handlers by command name (`ListObjectsV2Command` …); unknown commands throw. */
export type Handlers = Record<string, (input: Record<string, unknown>) => unknown>;

/**
 * A typed stand-in for an SDK v3 client's `send`: records every command and answers with the
 * handler for its class name. Pass it where a `Pick<Client, 'send'>` is expected.
 */
export class FakeClient<Api> {
  readonly sent: SentCommand[] = [];
  constructor(private readonly handlers: Handlers) {}

  readonly send = async (command: { input: unknown }): Promise<unknown> => {
    const name = command.constructor.name;
    const input = command.input as Record<string, unknown>;
    this.sent.push({ name, input });
    const handler = this.handlers[name];
    if (!handler) throw new Error(`unexpected ${name}`);
    return handler(input);
  };

  /** This fake, typed as the client API it stands in for. */
  get api(): Api {
    return this as unknown as Api;
  }

  names(): string[] {
    return this.sent.map((c) => c.name);
  }
}

/** An error shaped like the SDK's. */
export function awsError(name: string, status = 400): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}
