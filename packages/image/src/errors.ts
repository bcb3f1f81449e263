import { ActionFailure } from '../../kit/src/errors';

/**
 * Base of every failure this package explains in its message (a failed build, a registry that
 * refused, an immutable tag that would move). It is a kit {@link ActionFailure}, so the run wrapper
 * reports the message as it is, without a list of classes to translate.
 */
export class ImageError extends ActionFailure {
  constructor(message: string) {
    super(message);
    this.name = 'ImageError';
  }
}

/** A builder command that failed outside a build step: login, export, a machine it cannot use. */
export class BuilderError extends ImageError {
  constructor(message: string) {
    super(message);
    this.name = 'BuilderError';
  }
}
