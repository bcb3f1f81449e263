/** CreateApplication, GetApplication, ListApplications, DeleteApplication. */
import { randomUUID } from 'node:crypto';
import { copy } from '../copy';
import { AwsError, type JsonOperation } from '../../contracts';
import type { CodeDeployContext } from '../index';
import type { Application } from '../model';

const PLATFORMS = ['ECS', 'Server', 'Lambda'];

/** The application operations. */
export function applicationOperations(ctx: CodeDeployContext): Record<string, JsonOperation> {
  const { state, opts } = ctx;
  return {
    CreateApplication: (input: Record<string, unknown>) => {
      const name = input.applicationName;
      if (typeof name !== 'string' || !name)
        throw new AwsError(
          'ApplicationNameRequiredException',
          'The application name must be specified.',
        );
      if (name.length > 100)
        throw new AwsError('InvalidApplicationNameException', 'The application name is too long.');
      if (state.applications.has(name))
        throw new AwsError(
          'ApplicationAlreadyExistsException',
          `The application ${name} already exists.`,
        );
      const platform = input.computePlatform ?? 'Server';
      if (typeof platform !== 'string' || !PLATFORMS.includes(platform))
        throw new AwsError(
          'InvalidComputePlatformException',
          'The computePlatform must be Server, Lambda or ECS.',
        );
      const app: Application = {
        applicationId: randomUUID(),
        applicationName: name,
        createTime: opts.clock.now(),
        linkedToGitHub: false,
        computePlatform: platform as Application['computePlatform'],
      };
      state.applications.set(name, app);
      return { applicationId: app.applicationId };
    },
    GetApplication: (input: Record<string, unknown>) => ({
      application: copy(state.application(input.applicationName)),
    }),
    ListApplications: () => ({ applications: [...state.applications.keys()].sort() }),
    // CodeDeploy has no "does not exist" error for DeleteApplication: an unknown name succeeds.
    DeleteApplication: (input: Record<string, unknown>) => {
      const name = input.applicationName;
      if (typeof name !== 'string' || !name) state.application(name); // ApplicationNameRequired
      if (typeof name === 'string' && state.applications.delete(name)) {
        for (const [k, g] of state.groups) if (g.applicationName === name) state.groups.delete(k);
      }
      return {};
    },
  };
}
