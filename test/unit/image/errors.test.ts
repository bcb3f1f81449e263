import { BuildFailure } from '../../../packages/image/src/builder';
import { TagConflictError } from '../../../packages/image/src/ecr';
import { BuilderError } from '../../../packages/image/src/errors';
import { CommandNotFoundError } from '../../../packages/image/src/exec';
import {
  RepositoryMissingError,
  SourceImageMissingError,
} from '../../../packages/image/src/publish';
import { RegistryError } from '../../../packages/image/src/registry';
import { ActionFailure } from '../../../packages/kit/src/errors';
import { failureMessage } from '../../../packages/kit/src/run';

describe('image errors', () => {
  it.each([
    ['a failed build', new BuildFailure('STEP 2/2: RUN x', ['out'], 'exit status 1')],
    ['a registry refusal', new RegistryError('pushing manifest api:v1: HTTP 403 DENIED', 403)],
    ['an immutable tag', new TagConflictError('Tag `v1` already exists', 'v1')],
    ['a missing repository', new RepositoryMissingError('api')],
    ['a missing source image', new SourceImageMissingError('host/api:v1')],
    ['a builder that cannot run', new BuilderError('buildah does not work on this machine: x')],
    ['a missing command', new CommandNotFoundError('buildah')],
  ])('report %s through the run wrapper with their own message', (_name, error) => {
    expect(error).toBeInstanceOf(ActionFailure);
    expect(failureMessage(error)).toBe(error.message);
  });

  it('name no action input in a missing repository', () => {
    expect(new RepositoryMissingError('api').message).toBe('Repository `api` does not exist.');
  });
});
