// What the CodeDeploy side finds wrong in the configuration: facts, without input names (the
// action phrases them). Kept apart so reading inputs loads nothing else.
import { ConfigurationError } from '../../../kit/src/errors';

/** An option of the deploy that a CODE_DEPLOY service does not take (the fact, not the input). */
export class NotForCodeDeployError extends ConfigurationError {
  constructor(
    readonly option: 'strategy' | 'bakeTimeMinutes' | 'desiredCount',
    message: string,
  ) {
    super(message);
    this.name = 'NotForCodeDeployError';
  }
}

/** The AppSpec file cannot be used; `source` names it. */
export class AppSpecFileError extends ConfigurationError {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'AppSpecFileError';
  }
}

/** The deployment to continue does not exist, or does not deploy the service (the fact). */
export class UnknownCodeDeployDeploymentError extends ConfigurationError {
  constructor(
    readonly deploymentId: string,
    message: string,
  ) {
    super(message);
    this.name = 'UnknownCodeDeployDeploymentError';
  }
}
